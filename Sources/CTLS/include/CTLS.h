// CTLS: the C side of natsd's TLS, a thin layer over OpenSSL (Debian's libssl-dev).
//
// natsd never lets OpenSSL touch a socket. Each connection's SSL object talks to one custom BIO that
// reads ciphertext from a region the caller points it at (the bytes libuv just read) and hands every
// ciphertext byte it writes to a callback (which queues it for the connection's vectored write). So
// TLS is a transform between libuv and the protocol code, and OpenSSL's own read and write buffers are
// released whenever a connection is idle (SSL_MODE_RELEASE_BUFFERS).
//
// Helpers exist where Swift cannot call OpenSSL directly (macros such as SSL_CTX_set_min_proto_version,
// SSL_CTX_set1_groups_list, BIO_set_retry_read) or where one call is clearer than a dozen.
#ifndef CTLS_H
#define CTLS_H

#include <stddef.h>

typedef struct ssl_ctx_st CTLS_context;
typedef struct CTLS_session CTLS_session;

/// Receives ciphertext a session produced: `count` bytes at `bytes`, to be sent to the peer in order.
typedef void (*CTLS_output_fn)(void *owner, const void *bytes, size_t count);

/// A context for servers (`server` != 0) or clients, TLS 1.2 at least, no renegotiation, no session
/// tickets. NULL when OpenSSL cannot make one.
CTLS_context *CTLS_context_new(int server);
void CTLS_context_free(CTLS_context *ctx);

/// Loads the certificate chain (PEM) and its private key and checks they match; 0 on success, else
/// fills `error` with OpenSSL's reason.
int CTLS_context_use_certificate(CTLS_context *ctx, const char *cert_file, const char *key_file,
                                 char *error, size_t error_len);
/// The loaded certificate's notAfter as Unix seconds (what /varz `tls_cert_not_after` shows); 0 when
/// the context has no certificate or its date does not convert.
long long CTLS_context_certificate_not_after(CTLS_context *ctx);
/// Trusts the CA certificates of `ca_file` (PEM) to sign peers' certificates, and names them to clients
/// in the certificate request; 0 on success.
int CTLS_context_use_ca(CTLS_context *ctx, const char *ca_file, char *error, size_t error_len);
/// Trusts the system's CA store (a client without `ca_file`).
void CTLS_context_use_default_ca(CTLS_context *ctx);
/// Requires (`require` != 0) a peer certificate that verifies against the trusted CAs, or asks for none.
void CTLS_context_set_verify(CTLS_context *ctx, int require);
/// 0x0303 for TLS 1.2, 0x0304 for TLS 1.3; 0 on success.
int CTLS_context_set_min_version(CTLS_context *ctx, int version);
/// TLS 1.2 cipher suites as an OpenSSL cipher list ("ECDHE-ECDSA-AES128-GCM-SHA256:..."); 0 on success.
int CTLS_context_set_ciphers(CTLS_context *ctx, const char *list);
/// Key exchange groups as an OpenSSL list ("X25519:P-256"); 0 on success.
int CTLS_context_set_groups(CTLS_context *ctx, const char *list);

/// A session for one connection on `ctx`: server side when `server` != 0. Every ciphertext byte it
/// produces goes to `output(owner, …)`. NULL when OpenSSL cannot make one.
CTLS_session *CTLS_session_new(CTLS_context *ctx, int server, CTLS_output_fn output, void *owner);
void CTLS_session_free(CTLS_session *session);
/// Points the session at `count` bytes of ciphertext from the peer. The bytes must stay valid until
/// the next call of this function; calls below consume them. Pass NULL, 0 when done with them.
void CTLS_session_feed(CTLS_session *session, const void *bytes, size_t count);
/// Bytes fed and not consumed yet.
size_t CTLS_session_unconsumed(const CTLS_session *session);
/// Checks the peer's certificate for `host` (a client session; DNS name or IP address); 0 on success.
int CTLS_session_set_peer_name(CTLS_session *session, const char *host);
/// Advances the handshake: 1 when it is complete, 0 when it needs more input, -1 when it failed
/// (CTLS_session_error says why).
int CTLS_session_handshake(CTLS_session *session);
/// Decrypts into `buffer`: the byte count (> 0), 0 when more input is needed, -1 when the peer ended
/// the session (close_notify), -2 on an error.
long CTLS_session_read(CTLS_session *session, void *buffer, size_t capacity);
/// Encrypts `count` bytes (all of them: the output callback never refuses); 0 on success, -1 on error.
int CTLS_session_write(CTLS_session *session, const void *bytes, size_t count);
/// The reason of the last failure of this thread's OpenSSL calls, as OpenSSL words it ("" for none);
/// clears OpenSSL's error queue.
void CTLS_last_error(char *buffer, size_t capacity);
/// The peer certificate's subject as an RFC 2253 string into `buffer`; 0 on success, -1 without one.
int CTLS_session_peer_subject(CTLS_session *session, char *buffer, size_t capacity);

/// Subject alternative name kinds (OpenSSL's GEN_EMAIL, GEN_DNS, GEN_URI).
enum { CTLS_ALT_NAME_EMAIL = 1, CTLS_ALT_NAME_DNS = 2, CTLS_ALT_NAME_URI = 6 };
/// The `index`th subject alternative name of `kind` of the peer certificate: copies at most `capacity`
/// bytes of it (not NUL-terminated) into `buffer` and returns its full length, which may exceed
/// `capacity` (call again with a larger buffer); -1 when there is no such name (or no certificate).
long CTLS_session_peer_alt_name(CTLS_session *session, int kind, int index, char *buffer, size_t capacity);
/// The number of attributes in the peer certificate's subject; -1 without a certificate.
int CTLS_session_peer_subject_count(CTLS_session *session);
/// The `index`th attribute of the peer certificate's subject, in certificate (ASN.1) order: its type as a
/// dotted OID into `oid` (NUL-terminated), the number of the RDN it belongs to into `set` (attributes of
/// one multi-valued RDN share it), and its value as UTF-8 like `CTLS_session_peer_alt_name` (full
/// length returned). -1 when there is no such attribute; -2 when its value is not a character string.
long CTLS_session_peer_subject_attribute(CTLS_session *session, int index, int *set, char *oid, size_t oid_capacity,
                                        char *buffer, size_t capacity);

#endif
