// libcrypt (Debian's libcrypt-dev): crypt_r verifies bcrypt ($2a$/$2b$/$2y$) password hashes,
// so natsd never carries a hand-written bcrypt.
#include <crypt.h>
