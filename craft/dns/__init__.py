"""The sans-I/O DNS core: names, wire format, record data, messages, the codec, zones and
zone files, transfers, deliberate faults, answering from zones (``answering``) and the
answer cache in front of it (``answer_cache``).

Nothing in this package touches a socket, a selector or a signal: every function takes
bytes or values and returns bytes or values, so each can be tested in memory.
"""
