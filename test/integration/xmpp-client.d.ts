/** The part of @xmpp/client (which ships no types) that the integration tests use. */
declare module "@xmpp/client" {
  /** An xmpp.js element (ltx). */
  export interface Element {
    name: string;
    attrs: Record<string, string>;
    is(name: string, xmlns?: string): boolean;
    getChildText(name: string, xmlns?: string): string | null;
    toString(): string;
  }
  export interface Client {
    start(): Promise<{ toString(): string }>;
    stop(): Promise<void>;
    send(...elements: Element[]): Promise<void>;
    on(event: "stanza", listener: (stanza: Element) => void): this;
    on(event: "error", listener: (err: Error) => void): this;
    on(event: string, listener: (...args: unknown[]) => void): this;
  }
  export function client(options: {
    service: string;
    domain?: string;
    username?: string;
    password?: string;
    resource?: string;
  }): Client;
  export function xml(name: string, attrs?: Record<string, string>, ...children: (Element | string)[]): Element;
}
