// The Home tab's page: asks the tab's JSON API for the person's Home with their sign-in token,
// shows it, and sends each click and form back (bot/teams/tab_page.py). Everything it shows
// comes drawn and escaped by the server (bot/teams/tab_render.py); texts of its own come from
// data attributes of <body>. No framework, no build step.
//
// The page reaches Teams only through a host adapter: `teamsHost` (the pinned teams-js) in
// Teams, `testHost` when the server says it runs in its test mode, which takes the token from
// a loopback identity provider instead (data-token-url).
(function () {
  "use strict";

  const body = document.body;
  const main = document.getElementById("main");
  const statusLine = document.getElementById("status");
  const homeArea = document.getElementById("home");
  const formArea = document.getElementById("form-area");
  const confirmDialog = document.getElementById("confirm");
  const THEMES = ["default", "dark", "contrast"];
  const START_TIMEOUT_MS = 10000;

  class SignedOut extends Error {}
  class OutsideTeams extends Error {}

  function say(text) {
    statusLine.textContent = text || "";
  }

  function textOf(key) {
    return body.getAttribute("data-text-" + key) || "";
  }

  function applyTheme(theme) {
    const chosen = THEMES.includes(theme) ? theme : "default";
    THEMES.forEach(function (name) {
      body.classList.toggle("theme-" + name, name === chosen);
    });
  }

  function withTimeout(promise, ms) {
    return Promise.race([
      promise,
      new Promise(function (_resolve, reject) {
        setTimeout(function () {
          reject(new OutsideTeams("Teams did not answer"));
        }, ms);
      }),
    ]);
  }

  function teamsHost() {
    const teams = window.microsoftTeams;
    return {
      start: async function () {
        // Teams runs a tab in a frame (desktop, web) or a webview with a native bridge (phones).
        if (!teams || (window.parent === window && !window.nativeInterface)) {
          throw new OutsideTeams("not in Teams");
        }
        await withTimeout(teams.app.initialize(), START_TIMEOUT_MS);
        const context = await teams.app.getContext();
        applyTheme(context && context.app ? context.app.theme : "default");
        teams.app.registerOnThemeChangeHandler(applyTheme);
        teams.app.notifySuccess();
      },
      token: async function () {
        try {
          return await teams.authentication.getAuthToken();
        } catch (error) {
          throw new SignedOut(String(error));
        }
      },
      canPickPeople: function () {
        return Boolean(teams.people && teams.people.isSupported && teams.people.isSupported());
      },
      pickPerson: async function () {
        const picked = await teams.people.selectPeople({ singleSelect: true });
        const first = picked && picked[0];
        return first ? { id: first.objectId, name: first.displayName || "" } : null;
      },
    };
  }

  function testHost(tokenUrl) {
    return {
      start: async function () {
        applyTheme(new URLSearchParams(window.location.search).get("theme") || "default");
      },
      token: async function () {
        const answer = await fetch(tokenUrl, { cache: "no-store" });
        if (!answer.ok) {
          throw new SignedOut("the test identity provider said " + answer.status);
        }
        return (await answer.json()).token;
      },
      canPickPeople: function () {
        return false;
      },
      pickPerson: async function () {
        return null;
      },
    };
  }

  const host =
    body.getAttribute("data-host") === "test"
      ? testHost(body.getAttribute("data-token-url"))
      : teamsHost();

  async function call(path, payload) {
    const token = await host.token();
    const headers = { Authorization: "Bearer " + token };
    const options = { method: "GET", headers: headers, cache: "no-store" };
    if (payload !== undefined) {
      options.method = "POST";
      headers["Content-Type"] = "application/json";
      options.body = JSON.stringify(payload);
    }
    const answer = await fetch(path, options);
    if (answer.status === 401) {
      throw new SignedOut("the server refused the token");
    }
    if (!answer.ok) {
      throw new Error("the server answered " + answer.status);
    }
    return answer.json();
  }

  function setBusy(busy) {
    main.setAttribute("aria-busy", busy ? "true" : "false");
    document.querySelectorAll("main button").forEach(function (button) {
      button.disabled = busy;
    });
  }

  let openedBy = null;

  function show(result) {
    homeArea.innerHTML = result.home;
    if (result.form) {
      formArea.innerHTML = result.form;
      homeArea.hidden = true;
      formArea.hidden = false;
      wirePeoplePickers();
      const invalid = formArea.querySelector("[aria-invalid='true']");
      const target = invalid && invalid.tagName === "FIELDSET" ? invalid.querySelector("input") : invalid;
      (target || formArea.querySelector("h2")).focus();
    } else {
      closeForm();
    }
    say(result.said);
  }

  function closeForm() {
    const hadForm = !formArea.hidden && formArea.innerHTML !== "";
    formArea.innerHTML = "";
    formArea.hidden = true;
    homeArea.hidden = false;
    if (hadForm) {
      const again = openedBy && homeArea.querySelector(openedBy);
      (again || homeArea.querySelector("h1") || main).focus();
    }
  }

  function failed(error) {
    if (error instanceof OutsideTeams) {
      say(textOf("outside"));
    } else if (error instanceof SignedOut) {
      say(textOf("signed-out"));
    } else {
      say(textOf("failed"));
    }
  }

  async function run(work) {
    setBusy(true);
    try {
      show(await work());
    } catch (error) {
      failed(error);
    } finally {
      setBusy(false);
    }
  }

  function selectorFor(button) {
    const action = CSS.escape(button.getAttribute("data-action"));
    const value = CSS.escape(button.getAttribute("data-value"));
    return 'button[data-action="' + action + '"][data-value="' + value + '"]';
  }

  function press(button) {
    openedBy = selectorFor(button);
    return run(function () {
      return call("/tab/api/click", {
        action: button.getAttribute("data-action"),
        value: button.getAttribute("data-value"),
      });
    });
  }

  function askFirst(button) {
    document.getElementById("confirm-title").textContent = button.getAttribute("data-confirm-title");
    document.getElementById("confirm-text").textContent = button.getAttribute("data-confirm-text");
    const yes = document.getElementById("confirm-yes");
    const no = document.getElementById("confirm-no");
    yes.textContent = button.getAttribute("data-confirm-yes");
    no.textContent = button.getAttribute("data-confirm-no");
    function finish(go) {
      yes.onclick = null;
      no.onclick = null;
      confirmDialog.close();
      if (go) {
        press(button);
      } else {
        button.focus();
      }
    }
    yes.onclick = function () {
      finish(true);
    };
    no.onclick = function () {
      finish(false);
    };
    confirmDialog.oncancel = function (event) {
      event.preventDefault();
      finish(false);
    };
    confirmDialog.showModal();
    no.focus();
  }

  function formValues(form) {
    const values = { action: form.getAttribute("data-form") };
    Array.from(form.elements).forEach(function (element) {
      if (!element.name || (element.type === "radio" && !element.checked)) {
        return;
      }
      values[element.name] = element.value;
    });
    return values;
  }

  function wirePeoplePickers() {
    formArea.querySelectorAll("button[data-pick]").forEach(function (button) {
      button.hidden = !host.canPickPeople();
    });
  }

  async function pickPerson(button) {
    const input = document.getElementById(button.getAttribute("data-pick"));
    try {
      const person = await host.pickPerson();
      if (person) {
        input.value = person.id;
        say(person.name);
      }
    } catch (error) {
      failed(error);
    }
    input.focus();
  }

  document.addEventListener("click", function (event) {
    const button = event.target.closest("button");
    if (!button || button.disabled) {
      return;
    }
    if (button.hasAttribute("data-close")) {
      say("");
      closeForm();
    } else if (button.hasAttribute("data-pick")) {
      pickPerson(button);
    } else if (button.hasAttribute("data-action") && button.hasAttribute("data-confirm-title")) {
      askFirst(button);
    } else if (button.hasAttribute("data-action")) {
      press(button);
    }
  });

  formArea.addEventListener("submit", function (event) {
    event.preventDefault();
    const form = event.target;
    run(function () {
      return call("/tab/api/submit", formValues(form));
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape" && !formArea.hidden && !confirmDialog.open) {
      say("");
      closeForm();
    }
  });

  formArea.hidden = true;
  host
    .start()
    .then(function () {
      return run(function () {
        return call("/tab/api/home");
      });
    })
    .catch(failed);
})();
