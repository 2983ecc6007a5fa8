"""The comments and docstrings of a source file, as text: what its natural language is
written in (a Chinese comment in a Java file), for `langid` with `code: comments`.

By comment syntax family, from `meta.language` as `tag` writes it; a language of no family
here has no comments read (None), rather than a guess that reads code as prose. Markers are
stripped; string literals are not parsed, so a `#` or `//` inside one can start a "comment"
(rare, and only ever adds a little code-like text).
"""

from __future__ import annotations

import re

HASH = re.compile(r"(?m)(?:^|[ \t])#(?![!{\[])[ \t]?(.*)$")  # not `#!`, `#{x}`, `#[attr]`
SLASH = re.compile(r"(?m)(?:^|[ \t;{}(),])//+!?[ \t]?(.*)$")  # not `http://`
BLOCK = re.compile(r"/\*+!?(.*?)\*+/", re.S)
DASH = re.compile(r"(?m)(?:^|[ \t])--(?![-\[])[ \t]?(.*)$")
ANGLE = re.compile(r"<!--(.*?)-->", re.S)
DOCSTRING = re.compile(r'"""(.*?)"""|\'\'\'(.*?)\'\'\'', re.S)
_BLOCK_LINE = re.compile(r"(?m)^[ \t]*\*+[ \t]?")

FAMILIES: dict[str, tuple[re.Pattern, ...]] = {}
for _names, _patterns in (
    (
        "Python Cython Starlark Mojo",
        (HASH, DOCSTRING),
    ),
    (
        "Shell Fish Tcsh Ruby Perl Raku R Julia Crystal Nim Elixir Nix PowerShell Makefile "
        "Dockerfile CMake YAML TOML Tcl Awk Puppet CoffeeScript GDScript Meson Just Nextflow "
        "Dotenv INI Gnuplot",
        (HASH,),
    ),
    (
        "C C++ C# Java JavaScript TypeScript TSX Go Rust Kotlin Swift Scala Dart Groovy Gradle "
        "Objective-C Objective-C++ CSS SCSS Less Stylus Solidity Zig V D Vala Cuda GLSL HLSL "
        "OpenCL Metal WGSL Protocol Buffer Thrift Haxe Apex Ceylon Chapel Gleam Odin Carbon "
        "Hack Jsonnet Cue Processing Pawn SourcePawn Squirrel Verilog SystemVerilog Bicep "
        "QML Vyper Yul Move Motoko Ballerina Cairo Smithy GraphQL Prisma JSON with Comments",
        (SLASH, BLOCK),
    ),
    ("PHP", (HASH, SLASH, BLOCK)),
    ("SQL PLSQL PLpgSQL TSQL SQLPL Lua Haskell Ada Elm PureScript VHDL Idris Agda", (DASH,)),
    ("HTML XML SVG Vue Svelte Astro XSLT", (ANGLE,)),
):
    # names of several words are kept whole ("Protocol Buffer", "JSON with Comments")
    for _name in re.findall(r"Protocol Buffer|JSON with Comments|\S+", _names):
        FAMILIES[_name] = _patterns


def comments_of(text: str, language: str | None) -> str | None:
    """The comments and docstrings of `text` in `language`, joined by newlines and without
    their markers; None when the language has no known comment syntax."""
    patterns = FAMILIES.get(language or "")
    if patterns is None:
        return None
    found: list[tuple[int, str]] = []
    for pattern in patterns:
        for match in pattern.finditer(text):
            body = next((g for g in match.groups() if g is not None), "")
            if pattern is BLOCK:
                body = _BLOCK_LINE.sub("", body)
            if body.strip():
                found.append((match.start(), body.strip()))
    found.sort()  # in the order they stand in the file
    return "\n".join(body for _, body in found)
