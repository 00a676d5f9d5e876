// The C HTTP parser from Debian's libhttp-parser-dev, used by the monitoring endpoints.
#include <http_parser.h>
