# ECE 358 Lab 2, Task 2: the DNS client (a correct submission, for craft grade).
import random
import sys
from socket import AF_INET, SOCK_DGRAM, socket

serverIP = "127.0.0.1"
serverPort = int(sys.argv[1]) if len(sys.argv) > 1 else 10053
used = set()


def build_query(name):
    ident = random.getrandbits(16)
    while ident in used:  # a fresh ID for every query
        ident = random.getrandbits(16)
    used.add(ident)
    header = ident.to_bytes(2, "big") + b"\x00\x00\x00\x01\x00\x00\x00\x00\x00\x00"
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
clientSocket.settimeout(2)
while True:
    name = input("Enter Domain Name: ").strip()
    if name == "end":
        print("Session ended")
        break
    query = build_query(name)
    reply = None
    for _ in range(3):
        clientSocket.sendto(query, (serverIP, serverPort))
        try:
            while reply is None:
                data, address = clientSocket.recvfrom(2048)
                if data[:2] == query[:2]:  # not some other answer
                    reply = data
            break
        except TimeoutError:
            continue
    if reply is None:
        print(f"{name}: no reply")
    else:
        print_answers(name, reply)
clientSocket.close()
