using PdfSharp.Fonts;

namespace Billing.Invoicing.Exports;

/// <summary>
/// PDFsharp finds no system fonts on Linux: this resolver serves DejaVu Sans, regular and bold, from the
/// Debian package fonts-dejavu-core (infra/tools.sh installs it), for every family PDFsharp asks for.
/// Italic is simulated (slanted regular or bold).
/// </summary>
public sealed class DejaVuFontResolver : IFontResolver
{
    public const string FamilyName = "DejaVu Sans";

    public const string FontDirectory = "/usr/share/fonts/truetype/dejavu";

    private const string RegularFace = "DejaVuSans";
    private const string BoldFace = "DejaVuSans-Bold";

    private static readonly DejaVuFontResolver Instance = new();
    private static readonly Lock Gate = new();
    private static volatile bool installed;

    // PublicationOnly: a failed load (font not installed yet) is not cached, the next document tries again.
    private readonly Lazy<byte[]> regular = new(() => Load(RegularFace), LazyThreadSafetyMode.PublicationOnly);
    private readonly Lazy<byte[]> bold = new(() => Load(BoldFace), LazyThreadSafetyMode.PublicationOnly);

    private DejaVuFontResolver()
    {
    }

    /// <summary>
    /// Makes this PDFsharp's font resolver, once per process, whichever thread comes first (PDFsharp wants its
    /// resolver set only once). If the process set another resolver already, this one becomes the fallback
    /// resolver instead (when that is free), so fonts the other one does not know still resolve.
    /// </summary>
    public static void EnsureInstalled()
    {
        if (installed)
        {
            return;
        }

        lock (Gate)
        {
            if (installed)
            {
                return;
            }

            if (GlobalFontSettings.FontResolver is null)
            {
                GlobalFontSettings.FontResolver = Instance;
            }
            else if (GlobalFontSettings.FontResolver != Instance && GlobalFontSettings.FallbackFontResolver is null)
            {
                GlobalFontSettings.FallbackFontResolver = Instance;
            }

            installed = true;
        }
    }

    public FontResolverInfo? ResolveTypeface(string familyName, bool isBold, bool isItalic) =>
        new(isBold ? BoldFace : RegularFace, mustSimulateBold: false, mustSimulateItalic: isItalic);

    public byte[]? GetFont(string faceName) => faceName switch
    {
        RegularFace => regular.Value,
        BoldFace => bold.Value,
        _ => null,
    };

    private static byte[] Load(string face)
    {
        var path = Path.Combine(FontDirectory, face + ".ttf");
        try
        {
            return File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new FileNotFoundException(
                $"The invoice PDF font {path} is missing: install the Debian package fonts-dejavu-core (infra/tools.sh does).", path, e);
        }
    }
}
