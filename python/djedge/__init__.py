"""djedge for Django sites: export the users from the site's own settings
(``manage.py djedge_export``), and log people in through Auth0 onto the
same accounts (``djedge.backends.Auth0Backend``, ``djedge.urls``)."""
