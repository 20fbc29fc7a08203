import { PAGE_HTML, SCRIPT_JS, STYLE_CSS } from "./assets.generated";

/** The inspector's script and style, served as they are written: no build step, no framework. */
export const INSPECTOR_SCRIPT: string = SCRIPT_JS;
export const INSPECTOR_STYLE: string = STYLE_CSS;

/** The page, carrying this run's token for the page's own API calls. */
export function inspectorPage(token: string): string {
  // The token is base64url: nothing in it can leave the attribute.
  return PAGE_HTML.replace("__INSPECTOR_TOKEN__", token);
}
