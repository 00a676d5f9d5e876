// The C HTTP parser from Debian's libhttp-parser-dev, used by the monitoring endpoints.
#include <http_parser.h>

// http_errno is a bit-field; Swift reads it more clearly through this accessor.
static inline unsigned int CHTTPParser_errno(const http_parser *parser) { return HTTP_PARSER_ERRNO(parser); }
