"""pingxuan (评选): the kernel every domain may import (configuration, extensions, unit of work, errors, i18n,
clock, queue, storage). The application shell that wires the domains together is `shell`; nothing in
the kernel imports a domain or the shell."""
