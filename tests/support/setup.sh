# Shell helpers shared by tests/clients/run.sh and benches/compare/run.sh: installing what
# they need (idempotently, fast on re-runs) and running PostgreSQL tools as root.
# Source it after defining `say`.

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
sudo_if_root() { if [[ $EUID -eq 0 ]]; then "$@"; else sudo "$@"; fi; }
as_pg() { if [[ $EUID -eq 0 ]]; then runuser -u postgres -- "$@"; else "$@"; fi; }

# apt_install PACKAGE...: installs the Debian packages given (the caller lists the missing ones).
apt_install() {
    (($#)) || return 0
    say "apt-get install $*"
    sudo_if_root apt-get update -qq
    DEBIAN_FRONTEND=noninteractive sudo_if_root apt-get install -y -qq "$@" >/dev/null
}

# venv_install VENV REQUIREMENTS: a venv at VENV with REQUIREMENTS installed, redone only when
# the requirements file changed.
venv_install() {
    local venv=$1 reqs=$2 stamp="$1/.cdrlake-requirements"
    if [[ -x $venv/bin/python ]] && cmp -s "$reqs" "$stamp"; then return; fi
    say "pip install -r $reqs into $venv"
    python3 -m venv "$venv"
    "$venv/bin/pip" install -q --disable-pip-version-check -r "$reqs"
    cp "$reqs" "$stamp"
}
