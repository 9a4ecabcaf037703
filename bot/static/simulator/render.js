/*
 * Render LINE message objects (the JSON the bot sends) the way a resident sees them.
 *
 *   RuamkidChat.renderMessages(messages, {onAction, quickReplies}) -> HTMLElement
 *   RuamkidChat.renderBubble(message, side, onAction)               -> HTMLElement
 *   RuamkidChat.renderQuickReplies(message, onAction)               -> HTMLElement | null
 *
 * Every text from a message is put in the page with textContent, never as HTML: the bot's
 * messages quote what residents wrote. Elements with class "rk-preview" and a data-messages
 * attribute (see templates/simulator/macros.html) are rendered when the page loads.
 */
(function () {
  "use strict";

  function el(tag, className, text) {
    var node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  function safeUrl(url) {
    // Only web and same-site addresses become links or images.
    if (typeof url !== "string") return null;
    if (/^https?:\/\//i.test(url) || /^\/(?!\/)/.test(url)) return url;
    return null;
  }

  function actionLabel(action) {
    if (!action) return "";
    return action.label || action.displayText || action.text || action.data || action.type;
  }

  function actionButton(action, className, onAction) {
    var button = el("button", className, actionLabel(action));
    button.type = "button";
    button.dataset.actionType = action.type || "";
    button.addEventListener("click", function () {
      if (onAction) onAction(action);
    });
    return button;
  }

  // --- Flex messages (the parts the bot uses: boxes, texts, buttons, images, separators) ---

  function flexComponent(component, onAction) {
    if (!component || typeof component !== "object") return null;
    var node;
    switch (component.type) {
      case "box":
        node = el("div", "rk-flex-box rk-flex-" + (component.layout || "vertical"));
        (component.contents || []).forEach(function (child) {
          var childNode = flexComponent(child, onAction);
          if (childNode) node.appendChild(childNode);
        });
        if (component.action) {
          node.classList.add("rk-flex-tappable");
          node.addEventListener("click", function () {
            if (onAction) onAction(component.action);
          });
        }
        return node;
      case "text":
        node = el("div", "rk-flex-text");
        if (component.contents && component.contents.length) {
          component.contents.forEach(function (span) {
            node.appendChild(el("span", null, span.text || ""));
          });
        } else {
          node.textContent = component.text || "";
        }
        if (component.weight === "bold") node.classList.add("rk-bold");
        if (component.size) node.classList.add("rk-size-" + component.size);
        if (component.color && /^#[0-9a-fA-F]{6}$/.test(component.color)) {
          node.style.color = component.color;
        }
        return node;
      case "button":
        if (!component.action) return null;
        return actionButton(
          component.action,
          "rk-flex-button rk-flex-button-" + (component.style || "link"),
          onAction
        );
      case "image":
        var url = safeUrl(component.url);
        if (!url) return null;
        node = el("img", "rk-flex-image");
        node.src = url;
        node.alt = "";
        return node;
      case "separator":
        return el("hr", "rk-flex-separator");
      default:
        return null;
    }
  }

  function flexBubble(bubble, onAction) {
    var node = el("div", "rk-flex-bubble");
    ["header", "hero", "body", "footer"].forEach(function (part) {
      if (bubble[part]) {
        var partNode = flexComponent(bubble[part], onAction);
        if (partNode) {
          partNode.classList.add("rk-flex-" + part);
          node.appendChild(partNode);
        }
      }
    });
    return node;
  }

  function flexMessage(message, onAction) {
    var contents = message.contents || {};
    if (contents.type === "carousel") {
      var carousel = el("div", "rk-flex-carousel");
      (contents.contents || []).forEach(function (bubble) {
        carousel.appendChild(flexBubble(bubble, onAction));
      });
      return carousel;
    }
    if (contents.type === "bubble") return flexBubble(contents, onAction);
    return el("div", "rk-bubble rk-bot", message.altText || "");
  }

  // --- Template messages -------------------------------------------------------------------

  function templateColumn(column, onAction) {
    var node = el("div", "rk-template");
    if (column.title) node.appendChild(el("div", "rk-template-title", column.title));
    node.appendChild(el("div", "rk-template-text", column.text || ""));
    (column.actions || []).forEach(function (action) {
      node.appendChild(actionButton(action, "rk-template-button", onAction));
    });
    return node;
  }

  function templateMessage(message, onAction) {
    var template = message.template || {};
    if (template.type === "carousel") {
      var carousel = el("div", "rk-flex-carousel");
      (template.columns || []).forEach(function (column) {
        carousel.appendChild(templateColumn(column, onAction));
      });
      return carousel;
    }
    if (template.type === "buttons" || template.type === "confirm") {
      return templateColumn(template, onAction);
    }
    return el("div", "rk-bubble rk-bot", message.altText || "");
  }

  // --- One message ---------------------------------------------------------------------------

  function renderBubble(message, side, onAction) {
    side = side || "bot";
    var row = el("div", "rk-row rk-row-" + side);
    var node;
    switch (message && message.type) {
      case "text":
        node = el("div", "rk-bubble rk-" + side, message.text || "");
        break;
      case "image":
        var url = safeUrl(message.previewImageUrl || message.originalContentUrl || message.url);
        node = el("div", "rk-bubble rk-" + side + " rk-image");
        if (url) {
          var image = el("img");
          image.src = url;
          image.alt = side === "resident" ? "รูปภาพที่ส่ง" : "รูปภาพ";
          node.appendChild(image);
        } else {
          node.textContent = "[รูปภาพ]";
        }
        break;
      case "sticker":
        node = el("div", "rk-bubble rk-" + side + " rk-sticker", "[สติกเกอร์]");
        break;
      case "location":
        node = el("div", "rk-bubble rk-" + side + " rk-location");
        node.appendChild(el("div", "rk-bold", message.title || "ตำแหน่งที่ตั้ง"));
        if (message.address) node.appendChild(el("div", null, message.address));
        node.appendChild(
          el("div", "rk-muted", Number(message.latitude).toFixed(5) + ", " +
            Number(message.longitude).toFixed(5))
        );
        break;
      case "flex":
        node = flexMessage(message, onAction);
        node.setAttribute("aria-label", message.altText || "");
        break;
      case "template":
        node = templateMessage(message, onAction);
        node.setAttribute("aria-label", message.altText || "");
        break;
      case "postback":
        if (!message.displayText) return null;
        node = el("div", "rk-bubble rk-" + side, message.displayText);
        break;
      case "follow":
        return el("div", "rk-system", "คุณเพิ่มบัญชีนี้เป็นเพื่อนแล้ว");
      case "unfollow":
        return el("div", "rk-system", "คุณบล็อกบัญชีนี้แล้ว");
      default:
        node = el(
          "div",
          "rk-bubble rk-" + side + " rk-muted",
          message && message.altText ? message.altText : "[ข้อความประเภท " + (message && message.type) + "]"
        );
    }
    row.appendChild(node);
    return row;
  }

  function renderQuickReplies(message, onAction) {
    var items = message && message.quickReply && message.quickReply.items;
    if (!items || !items.length) return null;
    var bar = el("div", "rk-chips");
    items.forEach(function (item) {
      if (item && item.action) bar.appendChild(actionButton(item.action, "rk-chip", onAction));
    });
    return bar;
  }

  function renderMessages(messages, options) {
    options = options || {};
    var onAction = options.onAction || null;
    var container = el("div", "rk-messages");
    (messages || []).forEach(function (message) {
      var node = renderBubble(message, options.side || "bot", onAction);
      if (node) container.appendChild(node);
    });
    if (options.quickReplies !== false && messages && messages.length) {
      var chips = renderQuickReplies(messages[messages.length - 1], onAction);
      if (chips) container.appendChild(chips);
    }
    return container;
  }

  function renderPreviews() {
    document.querySelectorAll(".rk-preview[data-messages]").forEach(function (node) {
      var messages;
      try {
        messages = JSON.parse(node.getAttribute("data-messages"));
      } catch (error) {
        node.textContent = "แสดงตัวอย่างข้อความไม่ได้";
        return;
      }
      node.replaceChildren(renderMessages(messages, {}));
    });
  }

  window.RuamkidChat = {
    renderMessages: renderMessages,
    renderBubble: renderBubble,
    renderQuickReplies: renderQuickReplies,
  };
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", renderPreviews);
  } else {
    renderPreviews();
  }
})();
