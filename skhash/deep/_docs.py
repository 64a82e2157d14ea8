"""One docstring mechanism for the deep hashers' shared parameter sections."""

import inspect
import re
import textwrap

__all__ = ["doc_filler"]


def doc_filler(shared_params, shared_attrs):
    """Decorator filling a class docstring's ``{shared_params}`` and ``{shared_attrs}``.

    Each ``<name>`` in the sections becomes the class's own default for parameter
    ``name`` (as its signature has it), so that classes sharing a section may differ in
    their defaults; the sections are indented like the placeholder line they replace.
    """

    def fill(cls):
        template = cls.__doc__
        indent = re.search(r"^( *)\{shared_params\}", template, re.M).group(1)
        defaults = inspect.signature(cls).parameters

        def default(match):
            value = defaults[match.group(1)].default
            return f'"{value}"' if isinstance(value, str) else str(value)

        def section(text):
            text = re.sub(r"<(\w+)>", default, textwrap.dedent(text).strip("\n"))
            return textwrap.indent(text, indent).lstrip(" ")

        cls.__doc__ = template.format(
            shared_params=section(shared_params), shared_attrs=section(shared_attrs)
        )
        return cls

    return fill
