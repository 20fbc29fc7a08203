import STYLE from "./assets/inspector.css?raw";
import PAGE from "./assets/inspector.html?raw";
import SCRIPT from "./assets/inspector.js?raw";

/** The inspector's script and style, served as they are written: no build step, no framework. */
export const INSPECTOR_SCRIPT: string = SCRIPT;
export const INSPECTOR_STYLE: string = STYLE;

/** The page, carrying this run's token for the page's own API calls. */
export function inspectorPage(token: string): string {
  // The token is base64url: nothing in it can leave the attribute.
  return PAGE.replace("__INSPECTOR_TOKEN__", token);
}
