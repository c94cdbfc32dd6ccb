"""The spirit-infra Pulumi program: read the spirit:* stack config, compose the components. Nothing else.

`pulumi up` runs it for real; `spirit-infra preview --stack NAME` runs this same file under Pulumi's mock
runtime. Invalid config fails before any resource is registered, with one line naming the key.
"""

from spirit_infra.program import main

main()
