#include "CTLS.h"
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509v3.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

// The session's side of the custom BIO: where ciphertext comes from and where it goes.
struct CTLS_session {
    SSL *ssl;
    const unsigned char *input;
    size_t input_count;
    CTLS_output_fn output;
    void *owner;
};

// MARK: - The BIO between OpenSSL and the connection's buffers

static BIO_METHOD *session_bio_method;
static pthread_once_t session_bio_once = PTHREAD_ONCE_INIT;

static int session_bio_write(BIO *bio, const char *bytes, int count) {
    CTLS_session *session = BIO_get_data(bio);
    if (count <= 0) return 0;
    session->output(session->owner, bytes, (size_t)count);
    return count;
}

static int session_bio_read(BIO *bio, char *buffer, int capacity) {
    CTLS_session *session = BIO_get_data(bio);
    BIO_clear_retry_flags(bio);
    if (session->input_count == 0) {
        // Not an end of stream: the next libuv read brings more.
        BIO_set_retry_read(bio);
        return -1;
    }
    size_t count = session->input_count < (size_t)capacity ? session->input_count : (size_t)capacity;
    memcpy(buffer, session->input, count);
    session->input += count;
    session->input_count -= count;
    return (int)count;
}

static long session_bio_ctrl(BIO *bio, int command, long number, void *pointer) {
    (void)number;
    (void)pointer;
    CTLS_session *session = BIO_get_data(bio);
    switch (command) {
    case BIO_CTRL_FLUSH:
        return 1;
    case BIO_CTRL_PENDING:
        return session ? (long)session->input_count : 0;
    default:
        return 0;
    }
}

static int session_bio_create(BIO *bio) {
    BIO_set_init(bio, 1);
    return 1;
}

static void make_session_bio_method(void) {
    BIO_METHOD *method = BIO_meth_new(BIO_get_new_index() | BIO_TYPE_SOURCE_SINK, "natsd session");
    if (!method) return;
    BIO_meth_set_write(method, session_bio_write);
    BIO_meth_set_read(method, session_bio_read);
    BIO_meth_set_ctrl(method, session_bio_ctrl);
    BIO_meth_set_create(method, session_bio_create);
    session_bio_method = method;
}

// MARK: - Contexts

static void copy_error(char *error, size_t error_len) {
    CTLS_last_error(error, error_len);
}

void CTLS_last_error(char *buffer, size_t capacity) {
    if (capacity == 0) return;
    buffer[0] = 0;
    unsigned long code = ERR_peek_last_error();
    if (code != 0) {
        const char *reason = ERR_reason_error_string(code);
        if (reason) {
            strncpy(buffer, reason, capacity - 1);
            buffer[capacity - 1] = 0;
        } else {
            ERR_error_string_n(code, buffer, capacity);
        }
    }
    ERR_clear_error();
}

CTLS_context *CTLS_context_new(int server) {
    pthread_once(&session_bio_once, make_session_bio_method);
    if (!session_bio_method) return NULL;
    SSL_CTX *ctx = SSL_CTX_new(server ? TLS_server_method() : TLS_client_method());
    if (!ctx) return NULL;
    SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
    // Idle connections give their record buffers back; no renegotiation (nats-server's Go TLS has none
    // as a server); no session tickets: clients reconnect with a full handshake, as with nats-server.
    SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    // The server picks the suite, in Go's order (as nats-server does): AES-128-GCM, then AES-256-GCM, then
    // ChaCha20-Poly1305, which goes first only for a client that lists it first (one without AES hardware).
    // OpenSSL's own order starts with AES-256-GCM, about 12 % more CPU per byte here (openssl speed, 16 KiB).
    SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION | SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE |
                                 SSL_OP_PRIORITIZE_CHACHA);
    SSL_CTX_set_num_tickets(ctx, 0);
    SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
    // Go's defaults: AEAD suites with forward secrecy only.
    SSL_CTX_set_ciphersuites(ctx, "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256");
    SSL_CTX_set_cipher_list(ctx, "ECDHE+AES128+AESGCM:ECDHE+AES256+AESGCM:ECDHE+CHACHA20");
    SSL_CTX_set1_groups_list(ctx, "X25519:P-256:P-384:P-521");
    return ctx;
}

void CTLS_context_free(CTLS_context *ctx) {
    SSL_CTX_free(ctx);
}

long long CTLS_context_certificate_not_after(CTLS_context *ctx) {
    X509 *certificate = SSL_CTX_get0_certificate(ctx);
    struct tm expiry;
    if (certificate == NULL || ASN1_TIME_to_tm(X509_get0_notAfter(certificate), &expiry) != 1) return 0;
    return (long long)timegm(&expiry);
}

int CTLS_context_use_certificate(CTLS_context *ctx, const char *cert_file, const char *key_file,
                                 char *error, size_t error_len) {
    ERR_clear_error();
    if (SSL_CTX_use_certificate_chain_file(ctx, cert_file) != 1 ||
        SSL_CTX_use_PrivateKey_file(ctx, key_file, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(ctx) != 1) {
        copy_error(error, error_len);
        return -1;
    }
    return 0;
}

int CTLS_context_use_ca(CTLS_context *ctx, const char *ca_file, char *error, size_t error_len) {
    ERR_clear_error();
    if (SSL_CTX_load_verify_locations(ctx, ca_file, NULL) != 1) {
        copy_error(error, error_len);
        return -1;
    }
    STACK_OF(X509_NAME) *names = SSL_load_client_CA_file(ca_file);
    if (names) SSL_CTX_set_client_CA_list(ctx, names);
    ERR_clear_error();
    return 0;
}

void CTLS_context_use_default_ca(CTLS_context *ctx) {
    SSL_CTX_set_default_verify_paths(ctx);
}

void CTLS_context_set_verify(CTLS_context *ctx, int require) {
    SSL_CTX_set_verify(ctx, require ? (SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT) : SSL_VERIFY_NONE, NULL);
}

int CTLS_context_set_min_version(CTLS_context *ctx, int version) {
    return SSL_CTX_set_min_proto_version(ctx, version) == 1 ? 0 : -1;
}

int CTLS_context_set_ciphers(CTLS_context *ctx, const char *list) {
    return SSL_CTX_set_cipher_list(ctx, list) == 1 ? 0 : -1;
}

int CTLS_context_set_groups(CTLS_context *ctx, const char *list) {
    return SSL_CTX_set1_groups_list(ctx, list) == 1 ? 0 : -1;
}

// MARK: - Sessions

CTLS_session *CTLS_session_new(CTLS_context *ctx, int server, CTLS_output_fn output, void *owner) {
    CTLS_session *session = calloc(1, sizeof(CTLS_session));
    if (!session) return NULL;
    session->output = output;
    session->owner = owner;
    session->ssl = SSL_new(ctx);
    BIO *bio = session->ssl ? BIO_new(session_bio_method) : NULL;
    if (!bio) {
        SSL_free(session->ssl);
        free(session);
        return NULL;
    }
    BIO_set_data(bio, session);
    // One BIO for both directions: SSL_set_bio takes over its single reference.
    SSL_set_bio(session->ssl, bio, bio);
    if (server) {
        SSL_set_accept_state(session->ssl);
    } else {
        SSL_set_connect_state(session->ssl);
    }
    return session;
}

void CTLS_session_free(CTLS_session *session) {
    if (!session) return;
    SSL_free(session->ssl);
    free(session);
}

void CTLS_session_feed(CTLS_session *session, const void *bytes, size_t count) {
    session->input = bytes;
    session->input_count = count;
}

size_t CTLS_session_unconsumed(const CTLS_session *session) {
    return session->input_count;
}

int CTLS_session_set_peer_name(CTLS_session *session, const char *host) {
    X509_VERIFY_PARAM *param = SSL_get0_param(session->ssl);
    X509_VERIFY_PARAM_set_hostflags(param, X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS);
    // An IP address is checked against the certificate's IP SANs, a name against its DNS SANs.
    if (X509_VERIFY_PARAM_set1_ip_asc(param, host) == 1) return 0;
    ERR_clear_error();
    if (SSL_set1_host(session->ssl, host) != 1) return -1;
    SSL_set_tlsext_host_name(session->ssl, host);
    return 0;
}

int CTLS_session_handshake(CTLS_session *session) {
    ERR_clear_error();
    int status = SSL_do_handshake(session->ssl);
    if (status == 1) return 1;
    int error = SSL_get_error(session->ssl, status);
    if (error == SSL_ERROR_WANT_READ) return 0;
    return -1;
}

long CTLS_session_read(CTLS_session *session, void *buffer, size_t capacity) {
    size_t count = 0;
    if (SSL_read_ex(session->ssl, buffer, capacity, &count) == 1) return (long)count;
    int error = SSL_get_error(session->ssl, 0);
    if (error == SSL_ERROR_WANT_READ) return 0;
    if (error == SSL_ERROR_ZERO_RETURN) return -1;
    return -2;
}

int CTLS_session_write(CTLS_session *session, const void *bytes, size_t count) {
    size_t written = 0;
    if (count == 0) return 0;
    return SSL_write_ex(session->ssl, bytes, count, &written) == 1 && written == count ? 0 : -1;
}

int CTLS_session_peer_subject(CTLS_session *session, char *buffer, size_t capacity) {
    X509 *peer = SSL_get0_peer_certificate(session->ssl);
    if (!peer || capacity == 0) return -1;
    BIO *memory = BIO_new(BIO_s_mem());
    if (!memory) return -1;
    X509_NAME_print_ex(memory, X509_get_subject_name(peer), 0, XN_FLAG_RFC2253);
    int count = BIO_read(memory, buffer, (int)capacity - 1);
    buffer[count > 0 ? count : 0] = 0;
    BIO_free(memory);
    return 0;
}

// MARK: - Peer certificate identity (verify_and_map)

// Copies `length` bytes of `bytes` into `buffer` (at most `capacity`) and returns `length`.
static long copy_out(const unsigned char *bytes, int length, char *buffer, size_t capacity) {
    size_t count = (size_t)length < capacity ? (size_t)length : capacity;
    if (count > 0) memcpy(buffer, bytes, count);
    return length;
}

long CTLS_session_peer_alt_name(CTLS_session *session, int kind, int index, char *buffer, size_t capacity) {
    X509 *peer = SSL_get0_peer_certificate(session->ssl);
    if (!peer || index < 0) return -1;
    GENERAL_NAMES *names = X509_get_ext_d2i(peer, NID_subject_alt_name, NULL, NULL);
    if (!names) {
        ERR_clear_error();
        return -1;
    }
    long result = -1;
    int seen = 0;
    for (int i = 0; i < sk_GENERAL_NAME_num(names); i++) {
        const GENERAL_NAME *name = sk_GENERAL_NAME_value(names, i);
        if (name->type != kind) continue;
        if (seen++ != index) continue;
        // rfc822Name, dNSName and uniformResourceIdentifier are all IA5Strings.
        const ASN1_IA5STRING *text = name->d.ia5;
        result = copy_out(ASN1_STRING_get0_data(text), ASN1_STRING_length(text), buffer, capacity);
        break;
    }
    GENERAL_NAMES_free(names);
    return result;
}

int CTLS_session_peer_subject_count(CTLS_session *session) {
    X509 *peer = SSL_get0_peer_certificate(session->ssl);
    return peer ? X509_NAME_entry_count(X509_get_subject_name(peer)) : -1;
}

long CTLS_session_peer_subject_attribute(CTLS_session *session, int index, int *set, char *oid, size_t oid_capacity,
                                        char *buffer, size_t capacity) {
    X509 *peer = SSL_get0_peer_certificate(session->ssl);
    if (!peer || oid_capacity == 0) return -1;
    const X509_NAME *subject = X509_get_subject_name(peer);
    if (index < 0 || index >= X509_NAME_entry_count(subject)) return -1;
    const X509_NAME_ENTRY *entry = X509_NAME_get_entry(subject, index);
    *set = X509_NAME_ENTRY_set(entry);
    // 1: always the dotted form, never OpenSSL's short name.
    if (OBJ_obj2txt(oid, (int)oid_capacity, X509_NAME_ENTRY_get_object(entry), 1) <= 0) oid[0] = 0;
    const ASN1_STRING *value = X509_NAME_ENTRY_get_data(entry);
    switch (ASN1_STRING_type(value)) {
    case V_ASN1_UTF8STRING: case V_ASN1_PRINTABLESTRING: case V_ASN1_IA5STRING: case V_ASN1_T61STRING:
    case V_ASN1_NUMERICSTRING: case V_ASN1_BMPSTRING:
        break;
    default:
        // Go's certificate parser (and so nats-server's mapping) skips values that are not strings.
        return -2;
    }
    unsigned char *utf8 = NULL;
    int length = ASN1_STRING_to_UTF8(&utf8, value);
    if (length < 0) {
        ERR_clear_error();
        return -2;
    }
    long result = copy_out(utf8, length, buffer, capacity);
    OPENSSL_free(utf8);
    return result;
}
