# ECE 358 Lab 2, Task 2: a DNS client with the faults students make, for craft grade:
# every query carries the lab example's ID 1a 2b, and it waits forever for the first reply.
import sys
from socket import AF_INET, SOCK_DGRAM, socket

serverIP = "127.0.0.1"
serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 10053


def build_query(name):
    header = b"\x1a\x2b\x04\x00\x00\x01\x00\x00\x00\x00\x00\x00"
    qname = b"".join(len(label).to_bytes(1, "big") + label.encode() for label in name.split("."))
    return header + qname + b"\x00" + b"\x00\x01\x00\x01"


def skip_name(data, pos):
    while True:
        if data[pos] & 0xC0 == 0xC0:
            return pos + 2
        if data[pos] == 0:
            return pos + 1
        pos += 1 + data[pos]


def print_answers(name, reply):
    count = int.from_bytes(reply[6:8], "big")
    pos = skip_name(reply, 12) + 4
    for _ in range(count):
        pos = skip_name(reply, pos)
        rtype = int.from_bytes(reply[pos:pos + 2], "big")
        ttl = int.from_bytes(reply[pos + 4:pos + 8], "big")
        length = int.from_bytes(reply[pos + 8:pos + 10], "big")
        rdata = reply[pos + 10:pos + 10 + length]
        pos += 10 + length
        if rtype == 1:
            address = ".".join(str(b) for b in rdata)
            print(f"{name}: type A, class IN, TTL {ttl}, addr ({length}) {address}")


clientSocket = socket(AF_INET, SOCK_DGRAM)
while True:
    name = input("Enter Domain Name: ").strip()
    if name == "end":
        print("Session ended")
        break
    clientSocket.sendto(build_query(name), (serverIP, serverPort))
    reply, address = clientSocket.recvfrom(2048)
    print_answers(name, reply)
clientSocket.close()
