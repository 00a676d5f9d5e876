#include "CTLSFuzzIdentity.h"
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdio.h>

// Adds one extension written in OpenSSL's config syntax; 0 on success.
static int add_extension(X509 *cert, int nid, const char *value) {
    X509V3_CTX context;
    X509V3_set_ctx_nodb(&context);
    X509V3_set_ctx(&context, cert, cert, NULL, NULL, 0);
    X509_EXTENSION *extension = X509V3_EXT_conf_nid(NULL, &context, nid, value);
    if (!extension) return -1;
    int ok = X509_add_ext(cert, extension, -1);
    X509_EXTENSION_free(extension);
    return ok == 1 ? 0 : -1;
}

static int write_pem(const char *path, EVP_PKEY *key, X509 *cert) {
    FILE *file = fopen(path, "w");
    if (!file) return -1;
    int ok = key ? PEM_write_PrivateKey(file, key, NULL, NULL, 0, NULL, NULL) : PEM_write_X509(file, cert);
    return fclose(file) == 0 && ok == 1 ? 0 : -1;
}

int CTLSFuzz_write_identity(const char *cert_path, const char *key_path) {
    int result = -1;
    EVP_PKEY *key = EVP_EC_gen("P-256");
    X509 *cert = X509_new();
    if (!key || !cert) goto done;
    X509_NAME *name = X509_get_subject_name(cert);
    if (X509_set_version(cert, X509_VERSION_3) != 1 ||
        ASN1_INTEGER_set(X509_get_serialNumber(cert), 1) != 1 ||
        !X509_gmtime_adj(X509_getm_notBefore(cert), -3600) ||
        !X509_gmtime_adj(X509_getm_notAfter(cert), 86400) ||
        X509_set_pubkey(cert, key) != 1 ||
        X509_NAME_add_entry_by_txt(name, "O", MBSTRING_ASC, (const unsigned char *)"natsd fuzz", -1, -1, 0) != 1 ||
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)"localhost", -1, -1, 0) != 1 ||
        X509_set_issuer_name(cert, name) != 1 ||
        add_extension(cert, NID_basic_constraints, "critical,CA:TRUE") != 0 ||
        add_extension(cert, NID_subject_alt_name, "DNS:localhost,email:fuzz@example.com") != 0 ||
        X509_sign(cert, key, EVP_sha256()) == 0) {
        goto done;
    }
    result = write_pem(key_path, key, NULL) == 0 && write_pem(cert_path, NULL, cert) == 0 ? 0 : -1;
done:
    X509_free(cert);
    EVP_PKEY_free(key);
    return result;
}
