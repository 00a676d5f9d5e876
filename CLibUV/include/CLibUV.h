// CLibUV: the C side of natsd's event loop layer.
//
// Swift imports libuv's handle types (uv_tcp_t, uv_stream_t, uv_handle_t, ...) as unrelated structs,
// although in C every handle starts with the uv_handle_t fields and every stream with the uv_stream_t
// fields. The inline casts below express that "inheritance" in one place, so Swift code never spreads
// assumingMemoryBound(to:) around.
#ifndef CLIBUV_H
#define CLIBUV_H

#include <uv.h>
#include <sys/uio.h>

static inline uv_handle_t *CLibUV_tcp_as_handle(uv_tcp_t *h) { return (uv_handle_t *)h; }
static inline uv_stream_t *CLibUV_tcp_as_stream(uv_tcp_t *h) { return (uv_stream_t *)h; }
static inline uv_handle_t *CLibUV_timer_as_handle(uv_timer_t *h) { return (uv_handle_t *)h; }
static inline uv_handle_t *CLibUV_signal_as_handle(uv_signal_t *h) { return (uv_handle_t *)h; }
static inline uv_handle_t *CLibUV_check_as_handle(uv_check_t *h) { return (uv_handle_t *)h; }
static inline uv_handle_t *CLibUV_prepare_as_handle(uv_prepare_t *h) { return (uv_handle_t *)h; }
static inline uv_handle_t *CLibUV_async_as_handle(uv_async_t *h) { return (uv_handle_t *)h; }

// The way back: a close callback gets the uv_handle_t it closed and frees the handle as the type it
// was allocated as (handles closed before an owner object held them, and the loop's own check and
// prepare handles).
static inline uv_tcp_t *CLibUV_handle_as_tcp(uv_handle_t *h) { return (uv_tcp_t *)h; }
static inline uv_check_t *CLibUV_handle_as_check(uv_handle_t *h) { return (uv_check_t *)h; }
static inline uv_prepare_t *CLibUV_handle_as_prepare(uv_handle_t *h) { return (uv_prepare_t *)h; }

// Requests start with the uv_req_t fields as handles do with uv_handle_t's (uv_cancel takes a uv_req_t).
static inline uv_req_t *CLibUV_getaddrinfo_as_req(uv_getaddrinfo_t *r) { return (uv_req_t *)r; }

/// Returns the numeric peer address of a TCP handle as "ip" text in `ip` (at least 64 bytes) and the
/// port in `port`; 0 on success or a libuv error code. sockaddr juggling is much clearer in C.
/// An IPv4-mapped IPv6 address (a v4 peer of a dual-stack listener) is named as plain IPv4.
int CLibUV_tcp_peer(const uv_tcp_t *h, char *ip, size_t ip_len, int *port);

/// Same as CLibUV_tcp_peer for the local (bound) address.
int CLibUV_tcp_local(const uv_tcp_t *h, char *ip, size_t ip_len, int *port);

/// Fills `storage` with the IPv4 or IPv6 address `host`:`port` (numeric host only).
int CLibUV_make_addr(const char *host, int port, struct sockaddr_storage *storage);

/// A close-on-exec duplicate of a TCP handle's socket, or a negative libuv error code. Lets a socket
/// accepted on one loop be served by another: the handle is closed on its loop, the duplicate opened
/// with uv_tcp_open on the other (libuv handles cannot move between loops).
int CLibUV_tcp_dup_socket(const uv_tcp_t *h);

/// close(2) for a descriptor that never became a handle's (a hand-over that failed).
int CLibUV_close_socket(int fd);

#endif
