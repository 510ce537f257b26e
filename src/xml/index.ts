export { Element } from 'ltx';
export { parseStrictXml, findForbiddenMarkup, XmlSyntaxError } from './strict-parse';
