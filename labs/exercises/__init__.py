"""The student stubs of the lab exercises, one plain Python file each.

``descentlab lab new DIR`` copies them (and ``README.md``) into DIR; the student
fills in the ``TODO`` bodies and runs ``descentlab lab check``. Nothing here is
imported by the package: the files are read as text (``descentlab.labs.handout``)
and graded in a separate process (``descentlab.labs.sandbox``).
"""
