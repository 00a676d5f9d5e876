import NATSServer
