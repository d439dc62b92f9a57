// HTML escaping for the result pages (report.html, compare.html, the served index). The report's
// charts were SVG here; its one timeline is now drawn on a canvas (timeline-script.ts), and this
// module keeps the escaping the other pages import from it.

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (character) => `&#${character.charCodeAt(0)};`);
}
