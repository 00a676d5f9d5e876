#ifndef _GNU_SOURCE
#error You must define _GNU_SOURCE
#endif
#include "CLibUV.h"
#include <stddef.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <fcntl.h>
#include <errno.h>
#include <unistd.h>

// The outbound queue hands libuv arrays of uv_buf_t built from Swift; libuv documents that a
// uv_buf_t may be cast to struct iovec on Unix, and the Swift side relies on the same layout.
_Static_assert(sizeof(uv_buf_t) == sizeof(struct iovec), "uv_buf_t must match struct iovec");
_Static_assert(offsetof(uv_buf_t, base) == offsetof(struct iovec, iov_base), "uv_buf_t.base layout");
_Static_assert(offsetof(uv_buf_t, len) == offsetof(struct iovec, iov_len), "uv_buf_t.len layout");

static int format_addr(const struct sockaddr_storage *ss, char *ip, size_t ip_len, int *port) {
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)ss;
        *port = ntohs(in->sin_port);
        return uv_ip4_name(in, ip, ip_len);
    }
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)ss;
        *port = ntohs(in6->sin6_port);
        if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr)) {
            // An IPv4 peer of a dual-stack listener shows up as ::ffff:a.b.c.d; name it as the IPv4
            // address it is, as Go (and so nats-server) does in logs, INFO client_ip and monitoring.
            struct sockaddr_in in;
            memset(&in, 0, sizeof(in));
            in.sin_family = AF_INET;
            in.sin_port = in6->sin6_port;
            memcpy(&in.sin_addr, &in6->sin6_addr.s6_addr[12], 4);
            return uv_ip4_name(&in, ip, ip_len);
        }
        return uv_ip6_name(in6, ip, ip_len);
    }
    return UV_EINVAL;
}

int CLibUV_tcp_peer(const uv_tcp_t *h, char *ip, size_t ip_len, int *port) {
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    int rc = uv_tcp_getpeername(h, (struct sockaddr *)&ss, &len);
    if (rc != 0) return rc;
    return format_addr(&ss, ip, ip_len, port);
}

int CLibUV_tcp_local(const uv_tcp_t *h, char *ip, size_t ip_len, int *port) {
    struct sockaddr_storage ss;
    int len = sizeof(ss);
    int rc = uv_tcp_getsockname(h, (struct sockaddr *)&ss, &len);
    if (rc != 0) return rc;
    return format_addr(&ss, ip, ip_len, port);
}

int CLibUV_make_addr(const char *host, int port, struct sockaddr_storage *storage) {
    memset(storage, 0, sizeof(*storage));
    if (strchr(host, ':') != NULL) {
        return uv_ip6_addr(host, port, (struct sockaddr_in6 *)storage);
    }
    return uv_ip4_addr(host, port, (struct sockaddr_in *)storage);
}

int CLibUV_tcp_dup_socket(const uv_tcp_t *h) {
    uv_os_fd_t fd;
    int rc = uv_fileno((const uv_handle_t *)h, &fd);
    if (rc != 0) return rc;
    int copy = fcntl(fd, F_DUPFD_CLOEXEC, 0);
    return copy < 0 ? uv_translate_sys_error(errno) : copy;
}

int CLibUV_close_socket(int fd) {
    return close(fd) == 0 ? 0 : uv_translate_sys_error(errno);
}
