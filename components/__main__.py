"""The Spirit component package's entry point: the engine runs ``python components/ <engine address>``.

It serves every public Spirit component (``spirit:index:<Name>``) to Pulumi programs in any language, the
way ``pulumi.provider.experimental.component_provider_host(name="spirit", components=[...])`` does, with
the same classes the Python API exports (:func:`spirit_infra.package.components`). The provider adds two
things to Pulumi's host (see :mod:`spirit_infra.package`): refused inputs come back as one gRPC error line,
and the schema carries each input's default.
"""

from spirit_infra.package import serve

if __name__ == "__main__":
    serve()
