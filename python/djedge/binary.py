"""Where the bundled ``djedge`` binary is: beside this virtualenv's python
(the wheel installs it into the scripts directory), else on PATH, unless
``settings.DJEDGE_BINARY`` names one."""

import os
import shutil
import sys
import sysconfig

from django.core.exceptions import ImproperlyConfigured

from .conf import djedge_settings


def djedge_binary() -> str:
    configured = djedge_settings().binary
    if configured:
        return configured
    name = "djedge.exe" if os.name == "nt" else "djedge"
    for directory in (sysconfig.get_path("scripts"), os.path.dirname(sys.executable)):
        candidate = os.path.join(directory, name)
        if os.access(candidate, os.X_OK):
            return candidate
    found = shutil.which(name)
    if found:
        return found
    raise ImproperlyConfigured("the djedge binary is not installed: pip install djedge (or set DJEDGE_BINARY)")
