"""How messages are shown to a person: the annotated hex view (``hexview``) and whole
exchanges with their summary and Scapy's verdict (``exchange``)."""
