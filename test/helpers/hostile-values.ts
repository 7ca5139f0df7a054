/** Values careless or hostile game code throws, rejects with, or returns where a number belongs. */

/** Every kind of value game code can throw. */
export function hostileValues(): ReadonlyArray<readonly [string, unknown]> {
  const throwingProxy = new Proxy(
    {},
    {
      get: () => {
        throw new Error('proxy get');
      },
      has: () => {
        throw new Error('proxy has');
      },
      getPrototypeOf: () => {
        throw new Error('proxy getPrototypeOf');
      },
      ownKeys: () => {
        throw new Error('proxy ownKeys');
      },
      getOwnPropertyDescriptor: () => {
        throw new Error('proxy getOwnPropertyDescriptor');
      },
    },
  );
  const throwingToString = {
    toString(): string {
      throw new Error('toString');
    },
    get message(): string {
      throw new Error('message getter');
    },
  };
  return [
    ['an Error', new Error('boom')],
    ['undefined', undefined],
    ['null', null],
    ['a Symbol', Symbol('sym')],
    ['a null-prototype object', Object.create(null) as unknown],
    ['an object whose toString and message throw', throwingToString],
    ['a Proxy that throws on every trap', throwingProxy],
    ['a string', 'just a string'],
    ['a bigint', 10n],
  ];
}

