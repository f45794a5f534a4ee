/** The part of whatwg-url's webidl2js wrapper the prelude uses (the package ships no types). */
declare module "whatwg-url/webidl2js-wrapper" {
  interface Installable {
    install(globalObject: object, globalNames: string[]): void;
  }
  export const URL: Installable;
  export const URLSearchParams: Installable;
}
