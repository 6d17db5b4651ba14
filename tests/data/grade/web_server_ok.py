# ECE 358 Lab 2, Task 1: the web server (a correct submission, for craft grade).
# Serves GET and HEAD from the folder it runs in, one thread per connection.
import os
import sys
import threading
from email.utils import formatdate
from socket import AF_INET, SO_REUSEADDR, SOCK_STREAM, SOL_SOCKET, socket

serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 10080
types = {".html": "text/html", ".txt": "text/plain", ".png": "image/png"}


def respond(status, headers, body, send_body):
    head = f"HTTP/1.1 {status}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers) + "\r\n"
    return head.encode() + (body if send_body else b"")


def handle(request):
    parts = request.split()
    if len(parts) < 3 or parts[0] not in ("GET", "HEAD") or not parts[2].startswith("HTTP/"):
        body = b"<html><body>400 Bad Request</body></html>"
        return respond("400 Bad Request", [("Connection", "close"), ("Content-Length", len(body)),
                                           ("Content-Type", "text/html")], body, True)
    method, path = parts[0], parts[1].lstrip("/")
    if ".." in path.split("/") or not os.path.isfile(path):
        body = b"<html><body>404 Not Found</body></html>"
        return respond("404 Not Found", [("Connection", "close"), ("Date", formatdate(usegmt=True)),
                                         ("Server", "Lab2/1.0"), ("Content-Length", len(body)),
                                         ("Content-Type", "text/html")], body, method == "GET")
    with open(path, "rb") as f:
        body = f.read()
    headers = [
        ("Connection", "close"),
        ("Date", formatdate(usegmt=True)),
        ("Server", "Lab2/1.0"),
        ("Last-Modified", formatdate(os.path.getmtime(path), usegmt=True)),
        ("Content-Length", len(body)),
        ("Content-Type", types.get(os.path.splitext(path)[1], "application/octet-stream")),
    ]
    return respond("200 OK", headers, body, method == "GET")


def serve(connectionSocket):
    try:
        request = connectionSocket.recv(2048).decode(errors="replace")
        if request:
            connectionSocket.sendall(handle(request))
    except OSError:
        pass
    finally:
        connectionSocket.close()


serverSocket = socket(AF_INET, SOCK_STREAM)
serverSocket.setsockopt(SOL_SOCKET, SO_REUSEADDR, 1)
serverSocket.bind(("127.0.0.1", serverPort))
serverSocket.listen(5)
print("The server is ready to receive")
while True:
    connectionSocket, addr = serverSocket.accept()
    threading.Thread(target=serve, args=(connectionSocket,), daemon=True).start()
