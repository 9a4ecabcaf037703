"""Try Ruamkid without LINE: a LINE-like chat page and a LINE Messaging API stand-in.

``views.bp`` and ``standin.bp`` are registered by ``create_app`` only in simulator mode (no
``LINE_CHANNEL_SECRET``; never in production). Everything goes through the production path:

- ``GET /simulator`` is the chat page (Thai). Acting as one of several pretend residents, it
  asks ``POST /simulator/send`` to build an event shaped like LINE's webhook (text, image,
  location, postback, follow, unfollow), which is signed with the app's channel secret and
  posted to the real ``POST /callback``; the real worker processes it.
- ``/simulator/line-api/...`` (``bot.simulator.standin``) is where ``LINE_API_HOST`` points in
  simulator mode: line-bot-sdk sends real HTTP requests (reply, push, multicast, profile,
  content, quota, rich menus) and gets LINE's answers. What the bot sent is stored in
  ``simulator_messages`` (``storage.simulator``) so any number of processes share the chat.
- The page polls ``GET /simulator/messages`` and renders the bot's messages.

Reusing the renderer: ``bot/static/simulator/render.js`` defines
``RuamkidChat.renderMessages(messages, options)``, which takes a list of LINE message objects
(plain JSON as the bot sends them: text, image, sticker, location, flex, template, with quick
replies) and returns a DOM element showing them as a resident sees them in LINE; texts are
set with ``textContent``, never as HTML. ``options.onAction(action)`` receives a tapped
button's or chip's LINE action; ``options.quickReplies`` (default true) shows the last
message's quick-reply chips. Styles are in ``bot/static/simulator/chat.css``. From a Jinja
template::

    {% from "simulator/macros.html" import line_preview, line_preview_assets %}
    {{ line_preview_assets() }}   {# once, in <head> #}
    {{ line_preview(messages) }}  {# a list of LINE message dicts #}
"""

from bot.simulator.views import bp

__all__ = ["bp"]
