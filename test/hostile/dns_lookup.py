# Resolves a host name.
import socket
print(socket.getaddrinfo("example.com", 443))
