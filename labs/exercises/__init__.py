"""The student stubs of the lab exercises, one plain Python file each.

``descentlab lab new DIR`` copies them (and ``README.md``) into DIR; the student
fills in the ``TODO`` bodies and runs ``descentlab lab check``. Nothing here is
imported by the package: the files are read as text (``descentlab.labs.handout``)
and graded in a separate process (``descentlab.labs.sandbox``).

The optimizer exercises are ``LectureOptimizer`` subclasses in which the
student writes ``init_state`` and ``update``, the two methods each of our own
optimizers consists of: a finished exercise is a ``torch.optim.Optimizer``
that trains any model, while the grader still sees one update at a time on
inputs it chooses. The schedule subclasses ``ClosedForm`` (the student writes
``factor``); clipping is a plain function. The stubs import only these two
base classes from descentlab: while grading nothing else of descentlab is
reachable (``descentlab.labs.isolation``).
"""
