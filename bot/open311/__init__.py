"""Open311 GeoReport v2: partner apps and journalists read the municipality's needs (anonymised
as the public pages are) and file new ones with an API key an admin issued.

``views.bp`` is the API under ``/open311/v2``; ``keys.bp`` the admins' page of keys;
``bot.commands.open311`` the ``ruamkid open311 keys`` commands.
"""
