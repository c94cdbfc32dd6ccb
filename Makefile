# Two commands on a fresh machine (Debian, Python 3.11, root):
#   make preview   set up (including python3-venv if `python3 -m venv` lacks it), then the offline preview
#                  of the default stack
#   make test      set up (including the Debian packages the tests need), then the whole suite
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test
# the probe's test peers: dnsmasq-base (no service, unlike dnsmasq), sip-tester (SIPp), openssl (test
# certificates), and the shared libraries chronyd links against (chrony itself is not installed, see below)
DEB_PACKAGES := nftables iproute2 conntrack dnsmasq-base sip-tester openssl libedit2 libseccomp2 libcap2 libgnutls30 libnettle8
# what `python3 -m venv` needs on Debian (a fresh Debian 12 has python3 but no ensurepip)
VENV_DEB_PACKAGES := python3-venv
# chronyd serves NTP to the probe tests. The chrony package would start a service and, conflicting with
# time-daemon, remove systemd-timesyncd: its binary is extracted from the .deb into the venv instead.
CHRONYD := $(VENV)/chrony/usr/sbin/chronyd
DEFAULT_STACK ?= aws-sbc

.PHONY: preview test setup setup-test debs venv-debs chrony bench clean lint

# install the Debian packages named in $(1) that are not installed yet (one apt-get run; needs root)
define apt_install
	@missing=""; for p in $(1); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
endef

$(PY):
	@$(PYTHON) -c 'import ensurepip, venv' 2>/dev/null || $(MAKE) --no-print-directory venv-debs
	$(PYTHON) -m venv $(VENV)

# the project and its runtime dependencies (what `make preview` and `pulumi up` need)
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e .
	touch $(STAMP)

# plus the test tools (pytest, hypothesis, moto server, boto3, cfn-lint, grpcio, ruff)
$(TEST_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $(TEST_STAMP)

setup: $(STAMP)

setup-test: $(TEST_STAMP)

debs:
	$(call apt_install,$(DEB_PACKAGES))

# only when $(PYTHON) cannot create a venv: a Python without ensurepip that is not Debian's is the
# user's to fix (the message below says so instead of failing later inside `python3 -m venv`)
venv-debs:
	@command -v dpkg >/dev/null || { echo "$(PYTHON) has no ensurepip/venv and this is not Debian: install the venv module for $(PYTHON)" >&2; exit 2; }
	$(call apt_install,$(VENV_DEB_PACKAGES))

$(CHRONYD): | $(PY)
	cd $(VENV) && rm -f chrony_*.deb && \
	  { apt-get download chrony >/dev/null 2>&1 || { apt-get update -qq && apt-get download chrony >/dev/null; }; } && \
	  dpkg-deb -x chrony_*.deb chrony && rm -f chrony_*.deb
	$(CHRONYD) --version

chrony: $(CHRONYD)

preview: setup
	$(VENV)/bin/spirit-infra preview --stack $(DEFAULT_STACK)

test: setup-test debs chrony
	$(PY) -m pytest -q -p no:cacheprovider

lint: setup-test
	$(VENV)/bin/ruff check .

bench: setup-test debs chrony
	@for b in bench/*; do [ -x "$$b" ] && { echo "== $$b"; $(PY) $$b || exit 1; }; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
