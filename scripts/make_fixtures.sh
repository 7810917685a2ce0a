#!/usr/bin/env bash
# Remakes the Django-made SQLite databases committed in tests/fixtures, with
# real Django 5.2 (tests/django_site/make_db.py, make_identities_db.py):
#   scripts/make_fixtures.sh [demo] [custom] [identities]   (all when none is named)
# demo: Django's own auth_user; custom: email as username, UUID primary key;
# identities: auth_user with django-allauth's account_emailaddress, holding
# the usernames, emails and names Auth0 handles badly.
set -euo pipefail
cd "$(dirname "$0")/.."
python=$(scripts/django_venv.sh 5.2)
for kind in "${@:-demo custom identities}"; do
  for name in $kind; do
    case $name in
      demo) script=make_db.py model=(--model default) base=demo-django-5.2 ;;
      custom) script=make_db.py model=(--model custom) base=custom-user-django-5.2 ;;
      identities) script=make_identities_db.py model=() base=identities-django-5.2 ;;
      *) echo "make_fixtures: unknown fixture $name (demo, custom or identities)" >&2; exit 2 ;;
    esac
    rm -f "tests/fixtures/$base.sqlite3"
    "$python" "tests/django_site/$script" "${model[@]}" \
      --database "sqlite://$PWD/tests/fixtures/$base.sqlite3" --passwords "tests/fixtures/$base.passwords.json"
    echo "made tests/fixtures/$base.sqlite3" >&2
  done
done
