# The two set-up commands are `make demo` and `make test`; everything else is a step of theirs.
PY ?= python3
PIP = PIP_ROOT_USER_ACTION=ignore $(PY) -m pip --disable-pip-version-check

.PHONY: demo demo-web test lint deps deps-python deps-system check fuzz soak bench

deps-python:
	$(PIP) install -q -e '.[test]'

deps-system:
	./scripts/install-system-deps.sh

deps: deps-system deps-python

lint: deps-python
	$(PY) -m ruff check craft tests
	$(PY) -m mypy craft

check:
	$(PY) -m pytest -q --durations=25

test: deps lint check

demo:
	$(PIP) install -q -e .
	./scripts/demo.sh

demo-web:
	$(PIP) install -q -e .
	./scripts/demo-web.sh

# Long runs, outside the quick suite: a million fuzzed DNS inputs, a web storm, corrupted
# captures; then a minute of dnsperf load at 80% of the measured maximum.
fuzz: deps-python
	$(PY) scripts/fuzz.py dns --count 1000000 --oracle-every 10
	$(PY) scripts/fuzz.py web --count 50000
	$(PY) scripts/fuzz.py pcap --count 30000

soak: deps
	./scripts/soak.sh

# make bench: craft against dnslib, a pure-Python ceiling, NSD, http.server and nginx, in
# one run; writes bench/RESULTS.md and bench/results.png.
bench:
	./scripts/install-system-deps.sh
	./scripts/install-system-deps.sh dnsperf wrk nginx-light
	$(PIP) install -q -e '.[test,bench]'
	$(PY) bench/run.py

# make sample-pcaps: rewrite pcaps/malformed.pcap (Scapy-built, fixed times: same bytes each run).
.PHONY: sample-pcaps
sample-pcaps:
	$(PY) scripts/make-sample-pcaps.py
