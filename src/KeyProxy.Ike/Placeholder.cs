namespace KeyProxy.Ike; internal static class Placeholder { }
