"""The application face: the library API that notebooks call (``run``, ``compare``, ``sweep``,
``timeline``, ``gsim``, ``validate``) and the click command line, a thin layer over it."""
