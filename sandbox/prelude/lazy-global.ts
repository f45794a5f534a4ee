/**
 * The descriptor of a global whose value is made on first read (URL,
 * streams, URLPattern: code an idle isolate should not pay for). The
 * accessor loads the value, then replaces itself with a plain data
 * property (writable, configurable, not enumerable, as WebIDL has
 * globals); assigning to it (a polyfill) just stores the value.
 */
export function lazyGlobalDescriptor(target: object, name: string, load: () => unknown): PropertyDescriptor {
  const settle = (value: unknown): void => {
    Object.defineProperty(target, name, { value, writable: true, enumerable: false, configurable: true });
  };
  return {
    get() {
      const value = load();
      settle(value);
      return value;
    },
    set: settle,
    enumerable: false,
    configurable: true,
  };
}
