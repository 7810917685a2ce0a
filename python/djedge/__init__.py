"""djedge for Django sites: export the users from the site's own settings
(``manage.py djedge_export``), run the migration from ``manage.py``
(``djedge_setup``, ``djedge_progress``, ``djedge_migrated``,
``djedge_finish``), and log people in through Auth0 onto the same accounts
(``djedge.backends.Auth0Backend``, ``djedge.urls``), retiring their Django
passwords as they arrive if the site asks (``DJEDGE_RETIRE_LOCAL_PASSWORDS``);
and one password per person: Django's password change and reset forms that
set the new password in Auth0 too (``djedge.forms``, ``djedge.password_urls``,
``djedge.admin``)."""
