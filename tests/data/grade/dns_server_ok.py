# ECE 358 Lab 2, Task 2: an authoritative DNS server (a correct submission, for craft grade).
import sys
from socket import AF_INET, SOCK_DGRAM, socket

serverIP = "127.0.0.1"
serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 10053

table = {
    "google.com": (260, ["192.165.1.1", "192.165.1.10"]),
    "youtube.com": (160, ["192.165.1.2"]),
    "uwaterloo.ca": (160, ["192.165.1.3"]),
    "wikipedia.org": (160, ["192.165.1.4"]),
    "amazon.ca": (160, ["192.165.1.5"]),
    "google.ca": (260, ["192.165.1.6"]),
}


def hexdump(data):
    return "\n".join(" ".join(f"{b:02x}" for b in data[i:i + 16]) for i in range(0, len(data), 16))


def read_name(data, pos):
    labels = []
    while data[pos] != 0:
        length = data[pos]
        labels.append(data[pos + 1:pos + 1 + length].decode())
        pos += 1 + length
    return ".".join(labels), pos + 1


def answer(query):
    name, end = read_name(query, 12)
    question = query[12:end + 4]
    entry = table.get(name.lower())
    if entry is None:
        flags = 0x8403  # NXDOMAIN
        return query[:2] + flags.to_bytes(2, "big") + b"\x00\x01\x00\x00\x00\x00\x00\x00" + question
    ttl, addresses = entry
    out = query[:2] + b"\x84\x00" + b"\x00\x01" + len(addresses).to_bytes(2, "big") + b"\x00\x00\x00\x00"
    out += question
    for address in addresses:
        out += b"\xc0\x0c" + b"\x00\x01" + b"\x00\x01" + ttl.to_bytes(4, "big") + b"\x00\x04"
        out += bytes(int(part) for part in address.split("."))
    return out


serverSocket = socket(AF_INET, SOCK_DGRAM)
serverSocket.bind((serverIP, serverPort))
print("The server is ready to receive")
while True:
    message, clientAddress = serverSocket.recvfrom(2048)
    response = answer(message)
    print("Request:")
    print(hexdump(message))
    print("Response:")
    print(hexdump(response))
    serverSocket.sendto(response, clientAddress)
