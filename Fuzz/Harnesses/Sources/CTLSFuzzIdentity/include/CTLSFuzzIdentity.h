// A throwaway TLS identity for the TLS handshake harness, made with OpenSSL when the harness starts:
// nothing secret is committed, and every run has a fresh key.
#ifndef CTLS_FUZZ_IDENTITY_H
#define CTLS_FUZZ_IDENTITY_H

/// Writes a new P-256 key (PEM, unencrypted) to `key_path` and a self-signed CA certificate for it
/// (CN=localhost, SAN DNS:localhost and email:fuzz@example.com, valid for a day) to `cert_path`;
/// 0 on success, -1 on any failure.
int CTLSFuzz_write_identity(const char *cert_path, const char *key_path);

#endif
