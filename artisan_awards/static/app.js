// Small progressive enhancements; every page works without this file.
document.addEventListener("click", (event) => {
  const button = event.target.closest("[data-print]");
  if (button) window.print();
});

// On a phone a list's rows become cards: name each cell after its column (templates may set data-label).
for (const table of document.querySelectorAll("table.list")) {
  // A column named only for screen readers (.sr-only) gets no visible name on the card.
  const names = [...table.querySelectorAll("thead th")].map((th) => (th.querySelector(".sr-only") ? "" : th.textContent.trim()));
  for (const row of table.querySelectorAll("tbody tr")) {
    [...row.children].forEach((cell, i) => {
      if (!cell.hasAttribute("data-label") && names[i] && !cell.hasAttribute("colspan")) cell.setAttribute("data-label", names[i]);
    });
  }
}

// The phone header: the navigation behind a menu button (the button shows only where this script runs).
const header = document.querySelector("header.top");
const menuButton = header && header.querySelector(".menu-toggle");
const menu = header && header.querySelector("#site-menu");
if (menuButton && menu) {
  header.classList.add("js-menu");
  menuButton.hidden = false;
  menuButton.addEventListener("click", () => {
    const open = menu.classList.toggle("open");
    menuButton.setAttribute("aria-expanded", open ? "true" : "false");
  });
}

// Rows of a form (periods, products): ticking "remove" greys the row so the choice shows before saving.
document.addEventListener("change", (event) => {
  const box = event.target.closest(".remove-row input[type=checkbox]");
  if (box) box.closest("[data-row]")?.classList.toggle("removing", box.checked);
});

// The review step's printed declaration: the frame grows to the declaration's height, so the page scrolls
// as one (without script the frame scrolls on its own).
for (const frame of document.querySelectorAll("iframe.declaration-frame")) {
  const fit = () => {
    const doc = frame.contentDocument;
    if (doc && doc.documentElement) frame.style.height = doc.documentElement.scrollHeight + 4 + "px";
  };
  frame.addEventListener("load", fit);
  window.addEventListener("resize", fit);
  if (frame.contentDocument && frame.contentDocument.readyState === "complete") fit();
}
