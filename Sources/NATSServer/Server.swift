import NATSProtocol
import UVLoop
import NATSSublist
import Logging
