"""The resolver never flushes a set when one of its names failed this run (one vendor's DNS outage must
not drop that vendor at once); a fully resolved set is replaced in one transaction."""

from __future__ import annotations

from spirit_infra.nat.resolver import nft_script, partial_sets, resolve_sets

SETS = {"fqdn_phone_ztp": ["ztp.polycom.com", "rps.yealink.com"], "fqdn_phone_ntp": ["pool.ntp.org"]}


def _resolve(name: str) -> list[str]:
    if name == "rps.yealink.com":
        raise OSError("Temporary failure in name resolution")
    return {"ztp.polycom.com": ["198.51.100.7"], "pool.ntp.org": ["198.51.100.9", "198.51.100.8"]}[name]


def test_a_set_with_a_failed_name_is_added_to_not_flushed():
    resolved, errors = resolve_sets(SETS, _resolve)
    assert errors == ["rps.yealink.com: Temporary failure in name resolution"]
    keep = partial_sets(SETS, errors)
    assert keep == {"fqdn_phone_ztp"}
    script = nft_script("spirit_nat", resolved, 900, keep)
    assert "flush set ip spirit_nat fqdn_phone_ztp" not in script
    assert "add element ip spirit_nat fqdn_phone_ztp { 198.51.100.7 timeout 900s }" in script
    # the fully resolved set is still replaced atomically
    assert "flush set ip spirit_nat fqdn_phone_ntp\nadd element ip spirit_nat fqdn_phone_ntp " \
           "{ 198.51.100.8 timeout 900s, 198.51.100.9 timeout 900s }" in script


def test_without_failures_every_set_is_replaced():
    resolved, errors = resolve_sets(SETS, lambda n: ["198.51.100.1"])
    script = nft_script("spirit_nat", resolved, 900, partial_sets(SETS, errors))
    assert script.count("flush set") == 2 and not errors
