"""Organisational memory as code: why paths look the way they do, how fragile they are, who knows them.

``model`` holds the typed entries, ``schema`` and ``loader`` read and validate the memory file,
``base_revision`` reads it from the revision a change is judged against (never from the change),
and ``mining`` with ``suggest`` and ``draft`` derive and write memory from history.
"""
