// i2c-bus ships no types; it is loaded dynamically and narrowed to PromisifiedI2c.
declare module 'i2c-bus';
