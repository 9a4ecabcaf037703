/* The simulator page: pick a pretend resident, send events, poll what the bot sent. */
(function () {
  "use strict";

  var app = document.getElementById("app");
  var urls = {
    send: app.dataset.sendUrl,
    messages: app.dataset.messagesUrl,
    residents: app.dataset.residentsUrl,
    richMenu: app.dataset.richMenuUrl,
  };
  var chat = document.getElementById("chat");
  var chips = document.getElementById("quick-replies");
  var notice = document.getElementById("notice");
  var select = document.getElementById("resident");
  var followButton = document.getElementById("follow");
  var textInput = document.getElementById("text");
  var photoInput = document.getElementById("photo");
  var dialog = document.getElementById("location-dialog");
  var locationForm = document.getElementById("location-form");
  var csrfMeta = document.querySelector('meta[name="csrf-token"]');

  var state = { residents: [], userId: null, lastId: 0, last: null, polling: null };

  function headers(extra) {
    var result = extra || {};
    if (csrfMeta) result["X-CSRFToken"] = csrfMeta.content;
    return result;
  }

  function showNotice(text) {
    notice.textContent = text || "";
    notice.hidden = !text;
  }

  function current() {
    return state.residents.find(function (r) { return r.user_id === state.userId; }) || null;
  }

  function updateFollow() {
    var resident = current();
    var following = !!(resident && resident.following);
    followButton.dataset.following = following ? "true" : "false";
    followButton.textContent = following ? "บล็อก" : "เพิ่มเพื่อน";
    followButton.title = following ? "เลิกติดตาม (บล็อก) บัญชีนี้" : "เพิ่มบัญชีนี้เป็นเพื่อน";
    ["text", "send", "photo-button", "location-button"].forEach(function (id) {
      document.getElementById(id).disabled = !following;
    });
    if (resident && !following) {
      showNotice("ยังไม่ได้เพิ่มเพื่อน กด “เพิ่มเพื่อน” เพื่อเริ่มคุยกับบัญชีนี้");
    } else {
      showNotice("");
    }
  }

  function fillResidents() {
    select.replaceChildren();
    state.residents.forEach(function (resident) {
      var option = document.createElement("option");
      option.value = resident.user_id;
      option.textContent = resident.display_name + " · " + resident.user_id.slice(0, 9) + "…";
      select.appendChild(option);
    });
    if (state.userId) select.value = state.userId;
  }

  function loadResidents() {
    return fetch(urls.residents, { headers: headers() })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        state.residents = data.residents;
        if (!state.residents.length) return addResident();
        var saved = window.localStorage.getItem("ruamkid-simulator-user");
        var known = state.residents.some(function (r) { return r.user_id === saved; });
        switchResident(known ? saved : state.residents[0].user_id);
      });
  }

  function addResident() {
    return fetch(urls.residents, {
      method: "POST",
      headers: headers({ "Content-Type": "application/json" }),
      body: "{}",
    })
      .then(function (r) { return r.json(); })
      .then(function (resident) {
        state.residents.push(resident);
        switchResident(resident.user_id);
      });
  }

  function switchResident(userId) {
    state.userId = userId;
    state.lastId = 0;
    state.last = null;
    window.localStorage.setItem("ruamkid-simulator-user", userId);
    chat.replaceChildren();
    chips.replaceChildren();
    fillResidents();
    updateFollow();
    poll();
  }

  function scrollDown() {
    chat.scrollTop = chat.scrollHeight;
  }

  function appendRecord(record) {
    var side = record.sender === "bot" ? "bot" : "resident";
    var node = RuamkidChat.renderBubble(record.message, side, onAction);
    if (node) {
      node.dataset.messageId = record.id;
      node.dataset.via = record.via;
      chat.appendChild(node);
    }
    state.last = record;
  }

  function showChips() {
    chips.replaceChildren();
    // LINE shows quick replies of the last message only, and only while it is the last one.
    if (state.last && state.last.sender === "bot") {
      var bar = RuamkidChat.renderQuickReplies(state.last.message, onAction);
      if (bar) chips.appendChild(bar);
    }
  }

  function poll() {
    var userId = state.userId;
    if (!userId) return Promise.resolve();
    var url = urls.messages + "?user_id=" + encodeURIComponent(userId) + "&after=" + state.lastId;
    return fetch(url, { headers: headers() })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        if (userId !== state.userId) return;
        data.messages.forEach(function (record) {
          if (record.id <= state.lastId) return;
          appendRecord(record);
          state.lastId = record.id;
        });
        if (data.messages.length) {
          showChips();
          scrollDown();
        }
      })
      .catch(function () { /* the next poll tries again */ });
  }

  function send(payload, form) {
    var options;
    if (form) {
      form.append("user_id", state.userId);
      options = { method: "POST", headers: headers(), body: form };
    } else {
      payload.user_id = state.userId;
      options = {
        method: "POST",
        headers: headers({ "Content-Type": "application/json" }),
        body: JSON.stringify(payload),
      };
    }
    chips.replaceChildren();
    return fetch(urls.send, options)
      .then(function (r) {
        return r.json().then(function (data) {
          if (!r.ok) showNotice(data.error || "ส่งไม่สำเร็จ (" + r.status + ")");
          return data;
        }, function () {
          showNotice("ส่งไม่สำเร็จ (" + r.status + ")");
        });
      })
      .then(poll);
  }

  function onAction(action) {
    switch (action.type) {
      case "message":
        send({ kind: "text", text: action.text || action.label || "" });
        break;
      case "postback":
        send({
          kind: "postback",
          data: action.data || "",
          display_text: action.displayText || action.text || "",
        });
        break;
      case "datetimepicker":
        var now = new Date();
        var iso = new Date(now.getTime() - now.getTimezoneOffset() * 60000).toISOString();
        var params = { date: { date: iso.slice(0, 10) }, time: { time: iso.slice(11, 16) } };
        send({
          kind: "postback",
          data: action.data || "",
          params: params[action.mode] || { datetime: iso.slice(0, 16) },
        });
        break;
      case "camera":
      case "cameraRoll":
        photoInput.click();
        break;
      case "location":
        openLocation();
        break;
      case "uri":
        if (/^https?:\/\//i.test(action.uri || "")) window.open(action.uri, "_blank", "noopener");
        break;
      case "clipboard":
        if (navigator.clipboard) navigator.clipboard.writeText(action.clipboardText || "");
        break;
      default:
        break;
    }
  }

  function openLocation() {
    if (typeof dialog.showModal === "function") dialog.showModal();
    else dialog.setAttribute("open", "");
  }

  function closeLocation() {
    if (typeof dialog.close === "function") dialog.close();
    else dialog.removeAttribute("open");
  }

  // Phone photos are several MB; like LINE, send a smaller JPEG.
  function shrink(file) {
    return new Promise(function (resolve) {
      if (!/^image\/(jpeg|png|webp)$/.test(file.type) || !window.createImageBitmap) {
        resolve(file);
        return;
      }
      createImageBitmap(file).then(function (bitmap) {
        var scale = Math.min(1, 1280 / Math.max(bitmap.width, bitmap.height));
        var canvas = document.createElement("canvas");
        canvas.width = Math.round(bitmap.width * scale);
        canvas.height = Math.round(bitmap.height * scale);
        canvas.getContext("2d").drawImage(bitmap, 0, 0, canvas.width, canvas.height);
        canvas.toBlob(function (blob) { resolve(blob || file); }, "image/jpeg", 0.85);
      }, function () { resolve(file); });
    });
  }

  function loadRichMenu() {
    fetch(urls.richMenu, { headers: headers() })
      .then(function (r) { return r.json(); })
      .then(function (data) {
        var box = document.getElementById("rich-menu");
        var bar = document.getElementById("rich-menu-bar");
        var panel = document.getElementById("rich-menu-panel");
        if (!data.rich_menu) {
          box.hidden = true;
          return;
        }
        var menu = data.rich_menu;
        bar.textContent = (menu.chatBarText || "เมนู") + " ▾";
        panel.replaceChildren();
        var size = menu.size || { width: 2500, height: 1686 };
        var stage = document.createElement("div");
        stage.className = "rk-rich-menu-stage";
        stage.style.aspectRatio = size.width + " / " + size.height;
        if (data.image_url) {
          var image = document.createElement("img");
          image.src = data.image_url;
          image.alt = "";
          stage.appendChild(image);
        }
        (menu.areas || []).forEach(function (area) {
          var b = area.bounds || {};
          var button = document.createElement("button");
          button.type = "button";
          button.className = "rk-rich-menu-area";
          button.setAttribute("aria-label", (area.action && (area.action.label || area.action.text)) || "เมนู");
          button.style.left = (100 * b.x / size.width) + "%";
          button.style.top = (100 * b.y / size.height) + "%";
          button.style.width = (100 * b.width / size.width) + "%";
          button.style.height = (100 * b.height / size.height) + "%";
          button.addEventListener("click", function () { onAction(area.action || {}); });
          stage.appendChild(button);
        });
        panel.appendChild(stage);
        box.hidden = false;
      })
      .catch(function () { /* no rich menu */ });
  }

  // --- wiring ----------------------------------------------------------------------------

  document.getElementById("composer").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = textInput.value;
    if (!text.trim()) return;
    textInput.value = "";
    send({ kind: "text", text: text });
  });

  document.getElementById("photo-button").addEventListener("click", function () {
    photoInput.click();
  });

  photoInput.addEventListener("change", function () {
    var file = photoInput.files && photoInput.files[0];
    photoInput.value = "";
    if (!file) return;
    shrink(file).then(function (blob) {
      var form = new FormData();
      form.append("photo", blob, "photo.jpg");
      send(null, form);
    });
  });

  document.getElementById("location-button").addEventListener("click", openLocation);
  document.getElementById("location-cancel").addEventListener("click", closeLocation);
  locationForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var data = new FormData(locationForm);
    closeLocation();
    send({
      kind: "location",
      title: data.get("title"),
      latitude: Number(data.get("latitude")),
      longitude: Number(data.get("longitude")),
      address: data.get("address"),
    });
  });

  followButton.addEventListener("click", function () {
    var resident = current();
    if (!resident) return;
    var following = !resident.following;
    resident.following = following;
    updateFollow();
    send({ kind: following ? "follow" : "unfollow" });
  });

  select.addEventListener("change", function () { switchResident(select.value); });
  document.getElementById("new-resident").addEventListener("click", addResident);

  document.getElementById("rich-menu-bar").addEventListener("click", function () {
    var panel = document.getElementById("rich-menu-panel");
    panel.hidden = !panel.hidden;
    this.setAttribute("aria-expanded", panel.hidden ? "false" : "true");
  });

  loadResidents().then(loadRichMenu);
  state.polling = window.setInterval(poll, 800);
})();
