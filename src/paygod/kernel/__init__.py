"""The kernel: settings, clock, ids, errors, the event envelope and the composition root.

`paygod.bootstrap` is deliberately not imported here: domain modules import
the kernel's small pieces, and the composition root imports the domain modules.
"""
