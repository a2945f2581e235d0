"""Stand-in for ansible-test's pip bootstrap script, for machines that reach only PyPI.

ansible-test bootstraps pip into the virtual environments of its sanity tests with a script it
downloads from its own host, unless ``~/.ansible/test/cache/get_pip_<version>.py`` exists. The
Makefile copies this file there, next to the pip wheel it downloads from PyPI, so ansible-test
runs the same pip version without that download. Arguments are those of get-pip.py.
"""
import glob
import os
import sys

GET_PIP_ONLY_OPTIONS = ("--no-setuptools", "--no-wheel")


def main():
    here = os.path.dirname(os.path.abspath(__file__))
    version = os.path.splitext(os.path.basename(__file__))[0].replace("get_pip_", "").replace("_", ".")
    wheels = glob.glob(os.path.join(here, "pip-%s-*.whl" % version))
    if not wheels:
        sys.exit("pip %s wheel not found beside %s; run 'make ansible-test-bootstrap'" % (version, __file__))
    sys.path.insert(0, wheels[0])
    from pip._internal.cli.main import main as pip_main  # pylint: disable=import-outside-toplevel

    args = [arg for arg in sys.argv[1:] if arg not in GET_PIP_ONLY_OPTIONS]
    sys.exit(pip_main(["install", "--upgrade", "--force-reinstall"] + args))


if __name__ == "__main__":
    main()
