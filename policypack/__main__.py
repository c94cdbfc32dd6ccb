"""The Spirit CrossGuard policy pack: `pulumi preview --policy-pack policypack` (or
`spirit-infra preview --stack NAME --policy-pack policypack` offline). The policies live in spirit_infra.policy."""

from spirit_infra.policy.pack import build

build()
