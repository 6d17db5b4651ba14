"""Captures: reading DNS messages out of pcap and pcapng files (``reader``) and writing
exchanges to pcap files that Wireshark opens as they are (``writer``)."""
